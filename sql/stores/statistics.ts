import type { ClickHouseClient } from '@clickhouse/client';
import { selectRows } from '../rows.ts';

/**
 * What GET /v1/statistics reads: a tenant's activity over a span of time,
 * cut into equal buckets, from the tables the pipeline writes. The overview
 * is the same metrics over one bucket (the whole window), so an overview and
 * the sum of a trend over the same span agree by construction.
 *
 * Every query names the tenant; rows are read with FINAL, so a replayed or
 * retried record counts once. Times are [start, end), epoch ms.
 */
export interface Buckets {
  /** The first bucket's start. */
  start: number;
  /** Exclusive: a row at `end` is the next span's. */
  end: number;
  /** Bucket width, ms. */
  step: number;
}

export interface Point {
  /** The bucket's start, epoch ms. */
  start: number;
  /** Null where the bucket has nothing to average or to take a share of. */
  value: number | null;
  /** How many things the value is a mean, share or percentile of (incidents, feedback, answers). */
  count?: number;
  /** The value's parts (per kind, source, outcome…); they sum to `value` for counts. */
  groups?: Record<string, number>;
}

/**
 * How a metric's rows (b: bucket, g: group, num, den) become a point:
 * - sum: value = Σ num, one group per g (none when g is always '');
 * - share: value = num of group `share` / Σ num, count = Σ num, groups as for sum;
 * - mean: value = Σ num / Σ den, count = Σ den (num a sum of durations, den how many);
 * - single: one row per bucket, value = num, count = den (a percentile).
 */
type Combine = { kind: 'sum' } | { kind: 'share'; share: string } | { kind: 'mean' } | { kind: 'single' };

interface MetricDef {
  unit: string;
  description: string;
  combine: Combine;
  /** Groups every point names, 0 where a bucket has none (others appear once seen). */
  groups?: readonly string[];
  sql: string;
  /** Reads the self-monitoring tenant's rows (AUTOPILOT_SELF_TENANT): unavailable without one. */
  selfMonitoring?: boolean;
}

/** The bucket of a time column, and the filter that keeps it in [start, end). Only column names are put into statements. */
const bucket = (col: string) => `intDiv(toUnixTimestamp64Milli(${col}) - {start:Int64}, {step:Int64})`;
const within = (col: string) => `${col} >= fromUnixTimestamp64Milli({start:Int64}) AND ${col} < fromUnixTimestamp64Milli({end:Int64})`;

/**
 * Rows stored per kind, by each row's own time (event time; alerts by when
 * they were last received). ClickHouse rows do not record the protocol a
 * record came by: that is `ingest_protocols`.
 */
export const INGEST_KINDS = [
  ['metric_samples', 'metric_points', 'timestamp'],
  ['log_lines', 'log_entries', 'timestamp'],
  ['spans', 'spans', 'timestamp'],
  ['deployments', 'deployments', 'timestamp'],
  ['alerts', 'alerts', 'received_at'],
  ['agent_calls', 'agent_calls', 'started_at'],
] as const;

/** The gateway's per-tenant counter of records written (gateway/telemetry.ts), as self-monitoring stores it. */
const ACCEPTED_COUNTER = 'autopilot_gateway_records_accepted_total';

/**
 * Mean time from opening to an event of the incident (its first delivered
 * notification, its first analysis), over incidents opened in the bucket
 * for which that event happened before `end`.
 */
const timeToFirst = (events: string) => `
  SELECT ${bucket('i.opened_at')} AS b, '' AS g,
         sum(toUnixTimestamp64Milli(e.first_at) - toUnixTimestamp64Milli(i.opened_at)) / 1000 AS num, count() AS den
    FROM incidents AS i FINAL
   INNER JOIN (${events}) AS e ON e.incident_id = i.incident_id
   WHERE i.tenant = {tenant:String} AND ${within('i.opened_at')}
   GROUP BY b`;

const METRICS = {
  ingest_rows: {
    unit: 'rows',
    description: 'Rows stored per kind (metric samples, log lines, spans, deployments, alerts, agent calls), by event time',
    combine: { kind: 'sum' },
    groups: INGEST_KINDS.map(([kind]) => kind),
    sql: INGEST_KINDS.map(
      ([kind, table, col]) =>
        `SELECT ${bucket(col)} AS b, '${kind}' AS g, count() AS num, 0 AS den FROM ${table} FINAL WHERE tenant = {tenant:String} AND ${within(col)} GROUP BY b`,
    ).join('\nUNION ALL\n'),
  },
  ingest_protocols: {
    unit: 'records',
    description:
      "Records written per protocol (json, remote_write, loki, otlp, alertmanager), from the gateway's own counter as self-monitoring stores it (needs AUTOPILOT_SELF_TENANT)",
    combine: { kind: 'sum' },
    selfMonitoring: true,
    // The counter's increase, sample to sample, per series (one per process, protocol and kind), as the
    // Pipeline health dashboard reads it: a drop is a restart (the increase is the new value); a series
    // first seen within 3 minutes of the start (read from 5 minutes before) began in that process's
    // lifetime, so its first value counts whole. An increase belongs to the bucket of the sample that shows it.
    sql: `
      SELECT ${bucket('timestamp')} AS b, protocol AS g, sum(increase) AS num, 0 AS den
        FROM (
          SELECT timestamp, labels['protocol'] AS protocol,
                 lagInFrame(toNullable(value), 1) OVER (PARTITION BY labels ORDER BY timestamp ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS previous,
                 multiIf(previous IS NULL, if(timestamp > fromUnixTimestamp64Milli({start:Int64}) - INTERVAL 3 MINUTE, value, 0),
                         value >= previous, value - previous, value) AS increase
            FROM metric_points FINAL
           WHERE tenant = {self:String} AND service = 'autopilot' AND metric_name = '${ACCEPTED_COUNTER}' AND labels['tenant'] = {tenant:String}
             AND timestamp >= fromUnixTimestamp64Milli({start:Int64}) - INTERVAL 5 MINUTE AND timestamp < fromUnixTimestamp64Milli({end:Int64})
        )
       WHERE ${within('timestamp')}
       GROUP BY b, g`,
  },
  series: {
    unit: 'series',
    description: 'Metric series with at least one sample (distinct service, metric name and labels)',
    combine: { kind: 'sum' },
    // No FINAL: a duplicate sample changes no distinct count.
    sql: `SELECT ${bucket('timestamp')} AS b, '' AS g, uniqExact(service, metric_name, series) AS num, 0 AS den
            FROM metric_points WHERE tenant = {tenant:String} AND ${within('timestamp')} GROUP BY b`,
  },
  incidents_opened: {
    unit: 'incidents',
    description: 'Incidents opened, per severity',
    combine: { kind: 'sum' },
    sql: `SELECT ${bucket('opened_at')} AS b, severity AS g, count() AS num, 0 AS den
            FROM incidents FINAL WHERE tenant = {tenant:String} AND ${within('opened_at')} GROUP BY b, g`,
  },
  incidents_resolved: {
    unit: 'incidents',
    description: 'Incidents resolved, per severity',
    combine: { kind: 'sum' },
    sql: `SELECT ${bucket('assumeNotNull(resolved_at)')} AS b, severity AS g, count() AS num, 0 AS den
            FROM incidents FINAL WHERE tenant = {tenant:String} AND status = 'resolved' AND ${within('resolved_at')} GROUP BY b, g`,
  },
  mtta: {
    unit: 's',
    description:
      'Mean time to acknowledge: from an incident opening to its first notification delivered to a target (Slack or webhook), over the incidents opened in the bucket that had one; count is how many',
    combine: { kind: 'mean' },
    sql: timeToFirst(`SELECT subject_id AS incident_id, min(at) AS first_at FROM notification_deliveries FINAL
                       WHERE tenant = {tenant:String} AND reason = 'incident' AND outcome = 'delivered' AND at < fromUnixTimestamp64Milli({end:Int64})
                       GROUP BY subject_id`),
  },
  time_to_analysis: {
    unit: 's',
    description: 'Mean time from an incident opening to its first root-cause analysis, over the incidents opened in the bucket that had one',
    combine: { kind: 'mean' },
    sql: timeToFirst(`SELECT incident_id, min(created_at) AS first_at FROM analyses FINAL
                       WHERE tenant = {tenant:String} AND created_at < fromUnixTimestamp64Milli({end:Int64})
                       GROUP BY incident_id`),
  },
  mttr: {
    unit: 's',
    description: 'Mean time to resolve: from opening to resolution, over the incidents resolved in the bucket (wherever they opened); count is how many',
    combine: { kind: 'mean' },
    sql: `SELECT ${bucket('assumeNotNull(resolved_at)')} AS b, '' AS g,
                 sum(toUnixTimestamp64Milli(assumeNotNull(resolved_at)) - toUnixTimestamp64Milli(opened_at)) / 1000 AS num, count() AS den
            FROM incidents FINAL WHERE tenant = {tenant:String} AND status = 'resolved' AND ${within('resolved_at')} GROUP BY b`,
  },
  analyses: {
    unit: 'analyses',
    description: 'Root-cause analyses made, per source (llm, rules)',
    combine: { kind: 'sum' },
    groups: ['llm', 'rules'],
    sql: `SELECT ${bucket('created_at')} AS b, source AS g, count() AS num, 0 AS den
            FROM analyses FINAL WHERE tenant = {tenant:String} AND ${within('created_at')} GROUP BY b, g`,
  },
  helpful_rate: {
    unit: 'ratio',
    description: 'Share of the feedback given on analyses that said they helped; count is the feedback given',
    combine: { kind: 'share', share: 'helpful' },
    groups: ['helpful', 'not_helpful'],
    sql: `SELECT ${bucket('created_at')} AS b, if(helpful, 'helpful', 'not_helpful') AS g, count() AS num, 0 AS den
            FROM incident_feedback FINAL WHERE tenant = {tenant:String} AND ${within('created_at')} GROUP BY b, g`,
  },
  notifications: {
    unit: 'notifications',
    description: 'Notification deliveries (incidents and rule alerts, to every target), per outcome',
    combine: { kind: 'sum' },
    groups: ['delivered', 'failed', 'suppressed'],
    sql: `SELECT ${bucket('at')} AS b, outcome AS g, count() AS num, 0 AS den
            FROM notification_deliveries FINAL WHERE tenant = {tenant:String} AND ${within('at')} GROUP BY b, g`,
  },
  assistant_calls: {
    unit: 'answers',
    description: "The assistant's answers, per source (llm, rules, needs_model)",
    combine: { kind: 'sum' },
    groups: ['llm', 'rules', 'needs_model'],
    sql: `SELECT ${bucket('created_at')} AS b, source AS g, count() AS num, 0 AS den
            FROM assistant_messages FINAL WHERE tenant = {tenant:String} AND role = 'assistant' AND ${within('created_at')} GROUP BY b, g`,
  },
  assistant_p95_ms: {
    unit: 'ms',
    description: '95th percentile of the time the assistant took to answer (exact, interpolated between ranks); count is the answers',
    combine: { kind: 'single' },
    sql: `SELECT ${bucket('created_at')} AS b, '' AS g, quantileExactInclusive(0.95)(duration_ms) AS num, count() AS den
            FROM assistant_messages FINAL WHERE tenant = {tenant:String} AND role = 'assistant' AND ${within('created_at')} GROUP BY b`,
  },
  assistant_tool_calls: {
    unit: 'tool calls',
    description: 'Tool calls the assistant made to answer',
    combine: { kind: 'sum' },
    sql: `SELECT ${bucket('created_at')} AS b, '' AS g, sum(tool_calls) AS num, 0 AS den
            FROM assistant_messages FINAL WHERE tenant = {tenant:String} AND role = 'assistant' AND ${within('created_at')} GROUP BY b`,
  },
  assistant_tokens: {
    unit: 'tokens',
    description: "The assistant's model tokens, input and output",
    combine: { kind: 'sum' },
    groups: ['input', 'output'],
    sql: `SELECT b, t.1 AS g, t.2 AS num, 0 AS den
            FROM (SELECT ${bucket('created_at')} AS b, sum(input_tokens) AS tokens_in, sum(output_tokens) AS tokens_out
                    FROM assistant_messages FINAL WHERE tenant = {tenant:String} AND role = 'assistant' AND ${within('created_at')} GROUP BY b)
           ARRAY JOIN [('input', toFloat64(tokens_in)), ('output', toFloat64(tokens_out))] AS t`,
  },
} satisfies Record<string, MetricDef>;

export type TrendMetric = keyof typeof METRICS;
export const TREND_METRICS = Object.keys(METRICS) as [TrendMetric, ...TrendMetric[]];

/** A metric's unit and meaning, for the API's answer and its documentation. */
export function describeMetric(metric: TrendMetric): { unit: string; description: string } {
  const { unit, description } = METRICS[metric];
  return { unit, description };
}

export interface Overview {
  ingest: {
    rows: Record<string, number>;
    rows_per_second: Record<string, number>;
    /** Null without self-monitoring (AUTOPILOT_SELF_TENANT): nothing else records the protocol. */
    by_protocol: { records: Record<string, number>; records_per_second: Record<string, number> } | null;
  };
  series: { active: number };
  incidents: {
    open: number;
    opened: number;
    resolved: number;
    mtta_s: number | null;
    acknowledged: number;
    mttr_s: number | null;
    time_to_analysis_s: number | null;
    analysed: number;
  };
  analyses: { total: number; by_source: Record<string, number> };
  feedback: { count: number; helpful: number; helpful_rate: number | null };
  notifications: { total: number; by_outcome: Record<string, number> };
  assistant: {
    answers: number;
    sessions: number;
    by_source: Record<string, number>;
    latency_ms: { mean: number; p50: number; p95: number; p99: number } | null;
    tool_calls: number;
    input_tokens: number;
    output_tokens: number;
  };
}

type MetricRow = { b: string; g: string; num: number; den: number };

export class StatisticsStore {
  /** `selfTenant`: AUTOPILOT_SELF_TENANT, under which self-monitoring stores the gateway's per-protocol counters. */
  constructor(
    private readonly ch: ClickHouseClient,
    private readonly selfTenant?: string,
  ) {}

  /** Whether `metric` can be answered here (ingest_protocols needs self-monitoring). */
  has(metric: TrendMetric): boolean {
    return !(METRICS[metric] as MetricDef).selfMonitoring || this.selfTenant !== undefined;
  }

  /** One point per bucket, empty buckets included (a count of 0, a mean of null). */
  async trend(tenant: string, metric: TrendMetric, span: Buckets): Promise<Point[]> {
    const def: MetricDef = METRICS[metric];
    const rows = await selectRows<MetricRow>(this.ch, def.sql, { tenant, self: this.selfTenant, ...span });
    const count = Math.ceil((span.end - span.start) / span.step);
    const byBucket = Array.from({ length: count }, () => [] as MetricRow[]);
    for (const r of rows) byBucket[Number(r.b)]?.push(r);
    const seen = new Set<string>(def.groups);
    for (const r of rows) if (r.g !== '') seen.add(r.g);
    return byBucket.map((bucketRows, i) => ({ start: span.start + i * span.step, ...combine(def.combine, bucketRows, [...seen].sort()) }));
  }

  /** The metrics over [from, to) as one bucket, with what only a whole window has (open incidents, percentiles). */
  async overview(tenant: string, from: number, to: number): Promise<Overview> {
    const span = { start: from, end: to, step: to - from };
    const seconds = (to - from) / 1000;
    const one = async (metric: TrendMetric) => (await this.trend(tenant, metric, span))[0]!;
    const [rows, protocols, series, opened, resolved, mtta, mttr, analysis, analyses, feedback, notifications, answers, toolCalls, tokens] = await Promise.all([
      one('ingest_rows'),
      this.has('ingest_protocols') ? one('ingest_protocols') : undefined,
      one('series'),
      one('incidents_opened'),
      one('incidents_resolved'),
      one('mtta'),
      one('mttr'),
      one('time_to_analysis'),
      one('analyses'),
      one('helpful_rate'),
      one('notifications'),
      one('assistant_calls'),
      one('assistant_tool_calls'),
      one('assistant_tokens'),
    ]);
    const [open] = await selectRows<{ open: string }>(
      this.ch,
      "SELECT count() AS open FROM incidents FINAL WHERE tenant = {tenant:String} AND status = 'open' AND opened_at < fromUnixTimestamp64Milli({end:Int64})",
      { tenant, end: to },
    );
    // Grouped by tenant so that an empty window gives no row rather than NaN percentiles.
    const [latency] = await selectRows<{ sessions: string; mean: number; qs: number[] }>(
      this.ch,
      `SELECT uniqExact(session_id) AS sessions, avg(duration_ms) AS mean, quantilesExactInclusive(0.5, 0.95, 0.99)(duration_ms) AS qs
         FROM assistant_messages FINAL WHERE tenant = {tenant:String} AND role = 'assistant' AND ${within('created_at')} GROUP BY tenant`,
      { tenant, start: from, end: to },
    );
    const perSecond = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, n / seconds]));
    const rowsByKind = rows.groups ?? {};
    const helpful = feedback.groups?.helpful ?? 0;
    return {
      ingest: {
        rows: rowsByKind,
        rows_per_second: perSecond(rowsByKind),
        by_protocol: protocols ? { records: protocols.groups ?? {}, records_per_second: perSecond(protocols.groups ?? {}) } : null,
      },
      series: { active: series.value ?? 0 },
      incidents: {
        open: Number(open?.open ?? 0),
        opened: opened.value ?? 0,
        resolved: resolved.value ?? 0,
        mtta_s: mtta.value,
        acknowledged: mtta.count ?? 0,
        mttr_s: mttr.value,
        time_to_analysis_s: analysis.value,
        analysed: analysis.count ?? 0,
      },
      analyses: { total: analyses.value ?? 0, by_source: analyses.groups ?? {} },
      feedback: { count: feedback.count ?? 0, helpful, helpful_rate: feedback.value },
      notifications: { total: notifications.value ?? 0, by_outcome: notifications.groups ?? {} },
      assistant: {
        answers: answers.value ?? 0,
        sessions: Number(latency?.sessions ?? 0),
        by_source: answers.groups ?? {},
        latency_ms: latency ? { mean: latency.mean, p50: latency.qs[0]!, p95: latency.qs[1]!, p99: latency.qs[2]! } : null,
        tool_calls: toolCalls.value ?? 0,
        input_tokens: tokens.groups?.input ?? 0,
        output_tokens: tokens.groups?.output ?? 0,
      },
    };
  }
}

function combine(how: Combine, rows: MetricRow[], groupNames: string[]): Omit<Point, 'start'> {
  const total = (pick: (r: MetricRow) => number) => rows.reduce((s, r) => s + Number(pick(r)), 0);
  const groups = () => {
    const out: Record<string, number> = Object.fromEntries(groupNames.map((g) => [g, 0]));
    for (const r of rows) out[r.g] = (out[r.g] ?? 0) + Number(r.num);
    return out;
  };
  switch (how.kind) {
    case 'sum':
      return groupNames.length === 0 ? { value: total((r) => r.num) } : { value: total((r) => r.num), groups: groups() };
    case 'share': {
      const all = total((r) => r.num);
      const shares = groups();
      return { value: all === 0 ? null : (shares[how.share] ?? 0) / all, count: all, groups: shares };
    }
    case 'mean': {
      const n = total((r) => r.den);
      return { value: n === 0 ? null : total((r) => r.num) / n, count: n };
    }
    case 'single':
      return rows[0] ? { value: Number(rows[0].num), count: Number(rows[0].den) } : { value: null, count: 0 };
  }
}
