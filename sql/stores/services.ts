import type { ClickHouseClient } from '@clickhouse/client';
import { moreSevere, scaleRank } from '../../lib/severity.ts';
import { selectRows } from '../rows.ts';

/**
 * What the console's services page reads (GET /v1/services and
 * /v1/services/{service}/series): per service, the latency percentiles,
 * throughput and error rate in equal buckets, its open incidents and its
 * last deployment.
 *
 * A handful of queries for every service at once, never one per service:
 * the overview must answer for 50 services in well under a second. Every
 * query is parameterized, names the tenant, and reads with FINAL (a window
 * the rollup wrote twice, a replayed log line, counts once).
 */

const MINUTE = 60_000;
/** The rollup window: the finest step there is data for. */
const ROLLUP_STEP = MINUTE;
/** Spans up to this are drawn by the minute; longer ones in at most MAX_BUCKETS buckets. */
const FINE_SPAN = 120 * MINUTE;
export const MAX_BUCKETS = 120;

/** Latency metrics are told by name, as people name them (http_request_duration_ms, db_latency_seconds…). */
const LATENCY_NAME = /duration|latency/i;
/** Log levels that count as errors, as the error-rate processor counts them. */
const ERROR_LEVELS = ['error', 'fatal'];

/** [from, to) cut into buckets of `step` ms, all epoch ms; from and to are multiples of step. */
export interface Span {
  from: number;
  to: number;
  step: number;
}

/** Per bucket (t: its start), null where the bucket had nothing to measure. */
export interface ServiceSeries {
  t: number[];
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
  /** Samples of the latency metric per second. */
  throughput: (number | null)[];
  /** Share (0..1) of log lines at level error or fatal. */
  error_rate: (number | null)[];
}

export interface Deployment {
  version: string;
  status: string;
  at: number;
}

export interface ServiceOverview {
  service: string;
  latency_metric: string | null;
  open_incidents: number;
  worst_open_severity: string | null;
  last_deployment: Deployment | null;
  series: ServiceSeries;
}

export interface ServiceDetail {
  latency_metric: string | null;
  series: ServiceSeries;
  deployments: Deployment[];
}

/** The step for a span: the rollup's minute up to 2 h, else the fewest whole minutes that keep it within MAX_BUCKETS. */
export function stepFor(spanMs: number): number {
  return spanMs <= FINE_SPAN ? ROLLUP_STEP : Math.ceil(spanMs / MAX_BUCKETS / MINUTE) * MINUTE;
}

/** The last `minutes` up to `now`: `to` is now rounded up to the step, and the span a whole number of steps. */
export function trailingSpan(now: number, minutes: number): Span {
  const step = stepFor(minutes * MINUTE);
  const to = Math.ceil(now / step) * step;
  return { from: to - Math.ceil((minutes * MINUTE) / step) * step, to, step };
}

/**
 * [from, to) widened to whole steps on multiples of the step since the epoch,
 * so its buckets are the rollup's windows at a 1-minute step (one bucket more
 * than span / step when `from` falls mid-bucket).
 */
export function alignedSpan(from: number, to: number): Span {
  const step = stepFor(to - from);
  return { from: Math.floor(from / step) * step, to: Math.ceil(to / step) * step, step };
}

/** Which services a query reads: those whose name contains `q` (any case), or one by name. */
export type ServiceFilter = { q?: string } | { service: string };

type Params = Record<string, unknown>;

const bucket = (col: string) => `intDiv(toUnixTimestamp64Milli(${col}) - {from:Int64}, {step:Int64})`;
const within = (col: string) => `${col} >= fromUnixTimestamp64Milli({from:Int64}) AND ${col} < fromUnixTimestamp64Milli({to:Int64})`;

function filterOf(f: ServiceFilter): { sql: string; params: Params } {
  if ('service' in f) return { sql: 'AND service = {service:String}', params: { service: f.service } };
  if (f.q) return { sql: 'AND positionCaseInsensitiveUTF8(service, {q:String}) > 0', params: { q: f.q } };
  return { sql: '', params: {} };
}

/** Rows per service and bucket (b: the bucket's index in the span); counts come as strings (64-bit in JSON). */
type LatencyRow = { service: string; b: string; n: string; p50: number; p95: number; p99: number };
type LogRow = { service: string; b: string; lines: string; errors: string };

export class ServiceStore {
  constructor(private readonly ch: ClickHouseClient) {}

  /**
   * Every service with rollups, log lines or deployments in the span, or an
   * open incident (of any age): open incidents first, the worst severity
   * first, then by name.
   */
  async overview(tenant: string, span: Span, filter: { q?: string } = {}): Promise<ServiceOverview[]> {
    const [metrics, errors, deployments, incidents] = await Promise.all([
      this.metricSamples(tenant, span, filter),
      this.errorRates(tenant, span, filter),
      this.lastDeployments(tenant, span, filter),
      this.openIncidents(tenant, filter),
    ]);
    const chosen = latencyMetrics(metrics);
    const latency = await this.latency(tenant, span, chosen);
    const names = new Set([...chosen.keys(), ...errors.keys(), ...[...deployments].filter(([, d]) => d.inSpan).map(([s]) => s), ...incidents.keys()]);
    const services = [...names].map((service): ServiceOverview => {
      const open = incidents.get(service);
      return {
        service,
        latency_metric: chosen.get(service) ?? null,
        open_incidents: open?.count ?? 0,
        worst_open_severity: open?.worst ?? null,
        last_deployment: deployments.get(service)?.last ?? null,
        series: seriesOf(span, latency.get(service), errors.get(service)),
      };
    });
    // Without an open incident: below any severity.
    const rank = (s: ServiceOverview) => (s.worst_open_severity === null ? -1 : scaleRank(s.worst_open_severity));
    return services.sort((a, b) => rank(b) - rank(a) || (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  }

  /** One service over the span: its series (of `metric`, else its busiest latency metric) and the deployments in it. A service with no data has buckets of nulls. */
  async series(tenant: string, service: string, span: Span, metric?: string): Promise<ServiceDetail> {
    const filter = { service };
    const [chosen, errors, deployments] = await Promise.all([
      metric === undefined ? this.metricSamples(tenant, span, filter).then(latencyMetrics) : new Map<string, string | null>([[service, metric]]),
      this.errorRates(tenant, span, filter),
      selectRows<{ version: string; status: string; at: string }>(
        this.ch,
        `SELECT version, status, toUnixTimestamp64Milli(timestamp) AS at FROM deployments FINAL
          WHERE tenant = {tenant:String} AND service = {service:String} AND ${within('timestamp')} ORDER BY timestamp, version, status`,
        { tenant, service, ...span },
      ),
    ]);
    const latency = await this.latency(tenant, span, chosen);
    return {
      latency_metric: chosen.get(service) ?? null,
      series: seriesOf(span, latency.get(service), errors.get(service)),
      deployments: deployments.map((d) => ({ version: d.version, status: d.status, at: Number(d.at) })),
    };
  }

  /** Samples per service and metric in the span: which services have rollups, and which of their metrics is the busiest latency one. */
  private metricSamples(tenant: string, span: Span, f: ServiceFilter) {
    const filter = filterOf(f);
    return selectRows<{ service: string; metric_name: string; samples: string }>(
      this.ch,
      `SELECT service, metric_name, sum(count) AS samples FROM metric_rollups FINAL
        WHERE tenant = {tenant:String} ${filter.sql} AND ${within('window_start')}
        GROUP BY service, metric_name`,
      { tenant, ...span, ...filter.params },
    );
  }

  /**
   * Per service and bucket, the percentiles of its latency metric over every
   * series and window in the bucket, merged through their DDSketch buckets by
   * the rule of the service_latency view (sql/migrations/0022): at a 1-minute
   * step they are that view's p50, p95 and p99. `n` is the samples.
   */
  private async latency(tenant: string, span: Span, chosen: Map<string, string | null>) {
    const pairs = [...chosen].filter((p): p is [string, string] => p[1] !== null);
    if (pairs.length === 0) return new Map<string, LatencyRow[]>();
    const rows = await selectRows<LatencyRow>(
      this.ch,
      `SELECT service, b, n, quantiles[1] AS p50, quantiles[2] AS p95, quantiles[3] AS p99
         FROM (
           SELECT *,
                  arrayCumSum(mapValues(merged)) AS cumulative,
                  arrayMap(q -> mapKeys(merged)[arrayFirstIndex(c -> c > q * (n - 1), cumulative)], [0.5, 0.95, 0.99]) AS positions,
                  arrayMap(p -> multiIf(p > 0, pow(gamma, p - 1000000) * 2 / (1 + gamma), p < 0, -pow(gamma, -p - 1000000) * 2 / (1 + gamma), 0), positions) AS quantiles
             FROM (
               SELECT service, ${bucket('window_start')} AS b, sum(count) AS n, sumMap(sketch) AS merged, any(sketch_gamma) AS gamma
                 FROM metric_rollups FINAL
                WHERE tenant = {tenant:String} AND service IN {services:Array(String)}
                  AND metric_name = {metrics:Array(String)}[indexOf({services:Array(String)}, service)]
                  AND ${within('window_start')}
                GROUP BY service, b
             )
         )`,
      { tenant, ...span, services: pairs.map((p) => p[0]), metrics: pairs.map((p) => p[1]) },
    );
    return byService(rows);
  }

  /** Per service and bucket, log lines and those at an error level. */
  private async errorRates(tenant: string, span: Span, f: ServiceFilter) {
    const filter = filterOf(f);
    const rows = await selectRows<LogRow>(
      this.ch,
      `SELECT service, ${bucket('timestamp')} AS b, count() AS lines, countIf(level IN {levels:Array(String)}) AS errors
         FROM log_entries FINAL
        WHERE tenant = {tenant:String} ${filter.sql} AND ${within('timestamp')}
        GROUP BY service, b`,
      { tenant, ...span, levels: ERROR_LEVELS, ...filter.params },
    );
    return byService(rows);
  }

  /** Each service's latest deployment (of any age), and whether it deployed in the span. */
  private async lastDeployments(tenant: string, span: Span, f: ServiceFilter) {
    const filter = filterOf(f);
    const rows = await selectRows<{ service: string; version: string; status: string; at: string; in_span: string }>(
      this.ch,
      `SELECT service, argMax(version, (timestamp, ingested_at)) AS version, argMax(status, (timestamp, ingested_at)) AS status,
              toUnixTimestamp64Milli(max(timestamp)) AS at, countIf(${within('timestamp')}) AS in_span
         FROM deployments FINAL
        WHERE tenant = {tenant:String} ${filter.sql}
        GROUP BY service`,
      { tenant, ...span, ...filter.params },
    );
    return new Map(rows.map((r) => [r.service, { last: { version: r.version, status: r.status, at: Number(r.at) }, inSpan: Number(r.in_span) > 0 }]));
  }

  /** Each service's open incidents (current versions, any age) and the worst of their severities. */
  private async openIncidents(tenant: string, f: ServiceFilter) {
    const filter = filterOf(f);
    const rows = await selectRows<{ service: string; count: string; severities: string[] }>(
      this.ch,
      `SELECT service, count() AS count, groupUniqArray(severity) AS severities
         FROM incidents FINAL
        WHERE tenant = {tenant:String} AND status = 'open' ${filter.sql}
        GROUP BY service`,
      { tenant, ...filter.params },
    );
    return new Map(rows.map((r) => [r.service, { count: Number(r.count), worst: r.severities.reduce(moreSevere) }]));
  }
}

/** Per service, its busiest metric named like a latency (most samples; the first name on a tie), or null when it has none. */
function latencyMetrics(rows: { service: string; metric_name: string; samples: string }[]): Map<string, string | null> {
  const best = new Map<string, { metric: string; samples: number } | null>();
  for (const r of rows) {
    if (!best.has(r.service)) best.set(r.service, null);
    if (!LATENCY_NAME.test(r.metric_name)) continue;
    const samples = Number(r.samples);
    const current = best.get(r.service);
    if (!current || samples > current.samples || (samples === current.samples && r.metric_name < current.metric)) {
      best.set(r.service, { metric: r.metric_name, samples });
    }
  }
  return new Map([...best].map(([service, b]) => [service, b?.metric ?? null]));
}

function byService<R extends { service: string }>(rows: R[]): Map<string, R[]> {
  const out = new Map<string, R[]>();
  for (const r of rows) {
    const list = out.get(r.service);
    if (list) list.push(r);
    else out.set(r.service, [r]);
  }
  return out;
}

/** Every bucket of the span, null where the rows have none. */
function seriesOf(span: Span, latency: LatencyRow[] = [], logs: LogRow[] = []): ServiceSeries {
  const count = Math.round((span.to - span.from) / span.step);
  const nulls = () => Array.from({ length: count }, (): number | null => null);
  const s: ServiceSeries = {
    t: Array.from({ length: count }, (_, i) => span.from + i * span.step),
    p50: nulls(),
    p95: nulls(),
    p99: nulls(),
    throughput: nulls(),
    error_rate: nulls(),
  };
  for (const r of latency) {
    const i = Number(r.b);
    s.p50[i] = r.p50;
    s.p95[i] = r.p95;
    s.p99[i] = r.p99;
    s.throughput[i] = Number(r.n) / (span.step / 1000);
  }
  for (const r of logs) s.error_rate[Number(r.b)] = Number(r.errors) / Number(r.lines);
  return s;
}
