import type {
  AgentCall,
  AlertRecord,
  AuditEvent,
  ExternalStatusChange,
  ProposalRecord,
  ExtractionRecord,
  JobRun,
  ScrapedPage,
  AnalysisRecord,
  Anomaly,
  DeploymentEvent,
  IncidentRecord,
  LogBatch,
  LogEntry,
  MetricBatch,
  MetricPoint,
  NotificationDelivery,
  SpanBatch,
  StaleMarker,
} from '../../schemas/topics.ts';
import { forEachSpan, msOf } from '../../schemas/span-batch.ts';
import { TOPICS } from '../../schemas/topics.ts';
import type { RowBinaryBatch, RowBinaryEncoder, SharedColumns } from '../../sql/row-binary.ts';
import { forEachSeries, identify, seriesIdentities as identities, type SeriesIdentity } from '../runtime/metric-batches.ts';
import { forEachStream } from '../runtime/log-batches.ts';
import type { Decoded } from '../runtime/processor.ts';
import { timeWindowError } from './time-window.ts';

/**
 * Avro records → ClickHouse rows, one mapping per table the sink writes (a
 * metric batch record becomes one row per sample, the others one row). Rows
 * of raw tables carry their Kafka partition and offset, for tracing; the
 * tables are keyed by content (series and timestamp, log line…), so a
 * replayed or retried record collapses into the row already there.
 *
 * `time` names the column a table is partitioned and expires by, and the
 * table's retention (its TTL in sql/migrations; a test checks they agree). A
 * row outside [now − retention, now + a day] is refused: older, the TTL would
 * drop it unseen; far off, ClickHouse's DateTime wraps (1970 and 9999 became
 * partitions of their own and the TTL overflowed).
 */
const position = (d: Decoded) => ({ kafka_partition: d.partition, kafka_offset: Number(d.offset) });

export interface SinkTable {
  table: string;
  time: { column: string; retentionDays: number };
  /** A high-rate table: rows are gathered into large inserts (see sink/processor.ts), not written per batch. */
  gathered: boolean;
  /** Appends the rows of one record to `out`. */
  rows: (d: Decoded, out: Record<string, unknown>[]) => void;
  /**
   * The same rows the fast way, for a high-rate topic: encoded straight into
   * `batch`, with no object per row. Calls `saw` with each row's event time;
   * returns why the record is refused (a row outside the table's retention, or
   * one that cannot be encoded; its other rows are in), if it is.
   */
  encode?: (d: Decoded, batch: RowBinaryBatch, encoder: RowBinaryEncoder, now: number, saw: (time: number) => void) => string | undefined;
}

/** One row per record. */
const oneRow =
  (row: (d: Decoded) => Record<string, unknown>): SinkTable['rows'] =>
  (d, out) => {
    out.push(row(d));
  };

const METRIC_POINTS = { table: 'metric_points', time: { column: 'timestamp', retentionDays: 30 }, gathered: true };

/** metric_points leads with the series' own columns: a series' samples share their encoding (migration 0024 made that order). */
const SERIES_COLUMNS = ['tenant', 'service', 'metric_name', 'labels'];
const sharedColumns = new WeakMap<RowBinaryEncoder, WeakMap<SeriesIdentity, SharedColumns>>();

/** A series' leading columns, encoded once per encoder; undefined if the table does not lead with them. */
function seriesColumns(encoder: RowBinaryEncoder, s: SeriesIdentity): SharedColumns | undefined {
  if (!SERIES_COLUMNS.every((name, i) => encoder.columns[i]?.name === name)) return undefined;
  let byEncoder = sharedColumns.get(encoder);
  if (!byEncoder) sharedColumns.set(encoder, (byEncoder = new WeakMap()));
  let shared = byEncoder.get(s);
  if (!shared)
    byEncoder.set(s, (shared = encoder.prefix({ tenant: s.tenant, service: s.service, metric_name: s.metricName, labels: s.labels }, SERIES_COLUMNS.length)));
  return shared;
}

const LOG_ENTRIES = { table: 'log_entries', time: { column: 'timestamp', retentionDays: 30 }, gathered: true };
const SPANS = { table: 'spans', time: { column: 'timestamp', retentionDays: 30 }, gathered: true };

/**
 * Each span of a span batch record as a `spans` row (sql/migrations/0031):
 * times as exact epoch nanoseconds (bigint, for the DateTime64(9) columns),
 * the start also as epoch ms for the sink's retention check; events and links
 * as the Nested columns' parallel arrays. `each` gets the row and its time.
 */
function forEachSpanRow(d: Decoded, each: (row: Record<string, unknown>, time: number) => void): void {
  const b = d.value as SpanBatch;
  const kafka_offset = Number(d.offset);
  const base = BigInt(b.base_timestamp) * 1_000_000n;
  forEachSpan(b, (r, s) => {
    const timestamp = msOf(b, s.start_ns);
    each(
      {
        tenant: b.tenant,
        service: r.service,
        timestamp: base + BigInt(s.start_ns), // exact nanoseconds (sql/row-binary.ts dateTime64)
        trace_id: s.trace_id,
        span_id: s.span_id,
        parent_span_id: s.parent_span_id,
        trace_state: s.trace_state,
        name: s.name,
        kind: s.kind,
        resource_attributes: r.attributes,
        scope_name: r.scope_name,
        scope_version: r.scope_version,
        span_attributes: s.attributes,
        duration_ns: s.duration_ns,
        status_code: s.status_code,
        status_message: s.status_message,
        'events.timestamp': s.events.map((e) => base + BigInt(e.time_ns)),
        'events.name': s.events.map((e) => e.name),
        'events.attributes': s.events.map((e) => e.attributes),
        'links.trace_id': s.links.map((l) => l.trace_id),
        'links.span_id': s.links.map((l) => l.span_id),
        'links.trace_state': s.links.map((l) => l.trace_state),
        'links.attributes': s.links.map((l) => l.attributes),
        kafka_partition: d.partition,
        kafka_offset,
      },
      timestamp,
    );
  });
}

export const RAW_TABLES: Record<string, SinkTable> = {
  // Samples arrive in batch records: a row per sample. NaN and ±Inf are written as such (RowBinary carries them; see sink/processor.ts).
  [TOPICS.metricBatches.topic]: {
    ...METRIC_POINTS,
    rows: (d, out) => {
      const b = d.value as MetricBatch;
      const kafka_offset = Number(d.offset);
      forEachSeries(b, identify(b, identities), (s, from, to) => {
        for (let i = from; i < to; i++) {
          out.push({
            tenant: s.tenant,
            service: s.service,
            metric_name: s.metricName,
            labels: s.labels,
            timestamp: b.base_timestamp + b.timestamps[i]!,
            value: b.values[i]!,
            kafka_partition: d.partition,
            kafka_offset,
          });
        }
      });
    },
    encode: (d, batch, encoder, now, saw) => {
      const b = d.value as MetricBatch;
      const { retentionDays } = METRIC_POINTS.time;
      // One object for every sample's own columns, refilled: the batch copies it out as it encodes.
      const own = { timestamp: 0, value: 0, kafka_partition: d.partition, kafka_offset: Number(d.offset) };
      let refused: string | undefined;
      forEachSeries(b, identify(b, identities), (s, from, to) => {
        const shared = seriesColumns(encoder, s);
        for (let i = from; i < to; i++) {
          const timestamp = b.base_timestamp + b.timestamps[i]!;
          const outside = timeWindowError(timestamp, retentionDays, now);
          if (outside) {
            refused ??= `event time: timestamp ${outside}`;
            continue;
          }
          own.timestamp = timestamp;
          own.value = b.values[i]!;
          if (shared) batch.addWithPrefix(shared, own);
          else batch.add({ tenant: s.tenant, service: s.service, metric_name: s.metricName, labels: s.labels, ...own });
          saw(timestamp);
        }
      });
      return refused;
    },
  },
  // One record per sample: what versions before batch records wrote.
  [TOPICS.metrics.topic]: {
    ...METRIC_POINTS,
    rows: oneRow((d) => {
      const p = d.value as MetricPoint;
      return {
        tenant: p.tenant,
        service: p.labels.service ?? '',
        metric_name: p.metric_name,
        labels: p.labels,
        timestamp: p.timestamp,
        value: p.value,
        ...position(d),
      };
    }),
  },
  // Lines arrive in batch records: a row per line, its stream's service and labels read once per stream.
  [TOPICS.logBatches.topic]: {
    ...LOG_ENTRIES,
    rows: (d, out) => {
      const b = d.value as LogBatch;
      const kafka_offset = Number(d.offset);
      forEachStream(b, (s, from, to) => {
        for (let i = from; i < to; i++) {
          const timestamp = b.base_timestamp + b.timestamps[i]!;
          out.push({
            tenant: s.tenant,
            service: s.service,
            level: b.levels[i]!,
            timestamp,
            message: b.messages[i]!,
            labels: s.labels,
            kafka_partition: d.partition,
            kafka_offset,
          });
        }
      });
    },
    encode: (d, batch, _encoder, now, saw) => {
      const b = d.value as LogBatch;
      const { retentionDays } = LOG_ENTRIES.time;
      // One row object for every line, refilled: the batch copies it out as it encodes.
      const row = {
        tenant: b.tenant,
        service: '',
        level: '',
        timestamp: 0,
        message: '',
        labels: {} as Readonly<Record<string, string>>,
        kafka_partition: d.partition,
        kafka_offset: Number(d.offset),
      };
      let refused: string | undefined;
      forEachStream(b, (s, from, to) => {
        row.service = s.service;
        row.labels = s.labels;
        for (let i = from; i < to; i++) {
          const timestamp = b.base_timestamp + b.timestamps[i]!;
          const outside = timeWindowError(timestamp, retentionDays, now);
          if (outside) {
            refused ??= `event time: timestamp ${outside}`;
            continue;
          }
          row.level = b.levels[i]!;
          row.timestamp = timestamp;
          row.message = b.messages[i]!;
          batch.add(row);
          saw(timestamp);
        }
      });
      return refused;
    },
  },
  // One record per line: what versions before batch records wrote.
  [TOPICS.logs.topic]: {
    ...LOG_ENTRIES,
    rows: oneRow((d) => {
      const l = d.value as LogEntry;
      return { tenant: l.tenant, service: l.service, level: l.level, timestamp: l.timestamp, message: l.message, labels: l.labels, ...position(d) };
    }),
  },
  [TOPICS.deployments.topic]: {
    table: 'deployments',
    time: { column: 'timestamp', retentionDays: 365 },
    gathered: false,
    rows: oneRow((d) => {
      const e = d.value as DeploymentEvent;
      return { tenant: e.tenant, service: e.service, timestamp: e.timestamp, version: e.version, status: e.status, metadata: e.metadata, ...position(d) };
    }),
  },
  // Processor output: rows keyed by their own ids (anomaly_id, incident_id + version), so replays collapse too.
  [TOPICS.anomalies.topic]: {
    table: 'anomalies',
    time: { column: 'detected_at', retentionDays: 90 },
    gathered: false,
    rows: oneRow((d) => {
      // Records written before p_value and anomaly_score were kept decode without them (their writer's schema): NULL.
      const a = d.value as Anomaly;
      return { ...a, p_value: a.p_value ?? null, anomaly_score: a.anomaly_score ?? null };
    }),
  },
  [TOPICS.incidents.topic]: {
    table: 'incidents',
    time: { column: 'opened_at', retentionDays: 365 },
    gathered: false,
    rows: oneRow((d) => {
      const i = d.value as IncidentRecord;
      return {
        incident_id: i.incident_id,
        tenant: i.tenant,
        service: i.service,
        version: i.version,
        status: i.status,
        severity: i.severity,
        opened_at: i.opened_at,
        updated_at: i.updated_at,
        resolved_at: i.resolved_at,
        signals: JSON.stringify(i.signals),
        signal_count: i.signal_count,
        suspect_deployment: i.suspect_deployment?.id ?? null,
        suspect_version: i.suspect_deployment?.version ?? null,
        suspect_minutes_before: i.suspect_deployment?.minutes_before ?? null,
      };
    }),
  },
  [TOPICS.staleMarkers.topic]: {
    table: 'metric_stale_markers',
    time: { column: 'timestamp', retentionDays: 30 },
    gathered: true,
    rows: oneRow((d) => {
      const m = d.value as StaleMarker;
      return { tenant: m.tenant, service: m.labels.service ?? '', metric_name: m.metric_name, labels: m.labels, timestamp: m.timestamp, ...position(d) };
    }),
  },
  [TOPICS.alerts.topic]: {
    table: 'alerts',
    time: { column: 'starts_at', retentionDays: 395 },
    gathered: false,
    rows: oneRow((d) => ({ ...(d.value as AlertRecord) })),
  },
  [TOPICS.analyses.topic]: {
    table: 'analyses',
    time: { column: 'created_at', retentionDays: 365 },
    gathered: false,
    rows: oneRow((d) => {
      const { root_cause, recommended_actions, signals: _, incident_severity: __, ...a } = d.value as AnalysisRecord;
      return {
        ...a,
        root_cause: root_cause.description,
        root_cause_confidence: root_cause.confidence,
        root_cause_reasoning: root_cause.reasoning,
        recommended_actions: JSON.stringify(recommended_actions),
      };
    }),
  },
  [TOPICS.notifications.topic]: {
    table: 'notification_deliveries',
    time: { column: 'at', retentionDays: 90 },
    gathered: false,
    rows: oneRow((d) => ({ ...(d.value as NotificationDelivery) })),
  },
  // Spans arrive in batch records (high rate, like log lines): a row per span, its resource read once per resource.
  [TOPICS.spans.topic]: {
    ...SPANS,
    rows: (d, out) => forEachSpanRow(d, (row) => out.push(row)),
    encode: (d, batch, _encoder, now, saw) => {
      const { retentionDays } = SPANS.time;
      let refused: string | undefined;
      forEachSpanRow(d, (row, timestamp) => {
        const outside = timeWindowError(timestamp, retentionDays, now);
        if (outside) {
          refused ??= `event time: timestamp ${outside}`;
          return;
        }
        batch.add(row);
        saw(timestamp);
      });
      return refused;
    },
  },
  // Priced LLM and agent calls (processors/agents), one row per call, keyed by event_id; the raw autopilot.agent-events is only the agents processor's input.
  [TOPICS.agentCalls.topic]: {
    table: 'agent_calls',
    time: { column: 'started_at', retentionDays: 90 },
    gathered: false,
    rows: oneRow((d) => ({ ...(d.value as AgentCall), ...position(d) })),
  },
  // What scheduled jobs did and found (scheduler/).
  [TOPICS.jobRuns.topic]: {
    table: 'job_runs',
    time: { column: 'started_at', retentionDays: 90 },
    gathered: false,
    rows: oneRow((d) => ({ ...(d.value as JobRun), ...position(d) })),
  },
  [TOPICS.externalStatus.topic]: {
    table: 'external_status_changes',
    time: { column: 'at', retentionDays: 180 },
    gathered: false,
    rows: oneRow((d) => ({ ...(d.value as ExternalStatusChange), ...position(d) })),
  },
  [TOPICS.extractions.topic]: {
    table: 'extractions',
    time: { column: 'at', retentionDays: 90 },
    gathered: false,
    rows: oneRow((d) => ({ ...(d.value as ExtractionRecord), ...position(d) })),
  },
  // Remediation: every version of a proposal (proposals FINAL keeps the latest), and the audit.
  [TOPICS.proposals.topic]: {
    table: 'proposals',
    time: { column: 'created_at', retentionDays: 400 },
    gathered: false,
    rows: oneRow((d) => {
      const p = d.value as ProposalRecord;
      return { ...p, execution: p.execution && JSON.stringify(p.execution), ...position(d) };
    }),
  },
  [TOPICS.audit.topic]: {
    table: 'audit_events',
    time: { column: 'at', retentionDays: 400 },
    gathered: false,
    rows: oneRow((d) => ({ ...(d.value as AuditEvent), ...position(d) })),
  },
  [TOPICS.scrapedPages.topic]: {
    table: 'scraped_pages',
    time: { column: 'fetched_at', retentionDays: 30 },
    gathered: false,
    rows: oneRow((d) => ({ ...(d.value as ScrapedPage), ...position(d) })),
  },
};
