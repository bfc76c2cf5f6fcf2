import { readFileSync } from 'node:fs';
import type { AnomalySeverity } from '../lib/severity.ts';

/**
 * The contract between the gateway and the processors: each kind of record
 * has one topic, one Avro schema (registered as `<topic>-value`) and one key.
 * The key decides the partition, so records that share state share a key.
 */
export interface MetricPoint {
  tenant: string;
  timestamp: number;
  metric_name: string;
  value: number;
  labels: Record<string, string>;
}

/**
 * Many samples in one record (schemas/metric_batch.avsc): one tenant's series
 * of one partition from one request, each series once as references into
 * `symbols`, the samples in two columns. Built and read by metric-batch.ts.
 */
export interface MetricBatch {
  tenant: string;
  base_timestamp: number;
  symbols: string[];
  series: { labels_refs: number[]; sample_count: number }[];
  timestamps: number[];
  values: number[];
}

export interface LogEntry {
  tenant: string;
  timestamp: number;
  level: string;
  message: string;
  service: string;
  labels: Record<string, string>;
}

/**
 * Many log lines in one record (schemas/log_batch.avsc): one tenant's streams
 * of one partition from one request, each stream (service and labels) once
 * as references into `symbols`, the lines in three columns. Built and read
 * by log-batch.ts.
 */
export interface LogBatch {
  tenant: string;
  base_timestamp: number;
  symbols: string[];
  streams: { service_ref: number; labels_refs: number[]; entry_count: number }[];
  timestamps: number[];
  /** trace | debug | info | warn | error | fatal (an Avro enum) */
  levels: string[];
  messages: string[];
}

/** OTLP SpanKind and Status.code by the Collector's pdata names (span_batch.avsc enums). */
export type SpanKind = 'Unspecified' | 'Internal' | 'Server' | 'Client' | 'Producer' | 'Consumer';
export type SpanStatusCode = 'Unset' | 'Ok' | 'Error';

/**
 * One span as the gateway makes it from OTLP (gateway/protocols/otlp/traces.ts)
 * and tools read it back from a batch (span-batch.ts): a row of the `spans`
 * table. Not a record of its own: spans travel as SpanBatch records. Times
 * are epoch nanoseconds as doubles (exact to about 256 ns, as OTLP decoding
 * gives them); attribute maps are sorted by key and shared, never changed.
 */
export interface Span {
  tenant: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  trace_state: string;
  name: string;
  kind: SpanKind;
  service: string;
  resource_attributes: Record<string, string>;
  scope_name: string;
  scope_version: string;
  span_attributes: Record<string, string>;
  start_time_unix_nano: number;
  duration_ns: number;
  status_code: SpanStatusCode;
  status_message: string;
  events: { time_unix_nano: number; name: string; attributes: Record<string, string> }[];
  links: { trace_id: string; span_id: string; trace_state: string; attributes: Record<string, string> }[];
}

/**
 * Many spans in one record (schemas/span_batch.avsc): one tenant's traces of
 * one partition from one request, each resource and scope once, times in
 * nanoseconds after `base_timestamp` (ms). Built and read by span-batch.ts.
 */
export interface SpanBatch {
  tenant: string;
  base_timestamp: number;
  resources: { service: string; attributes: Record<string, string>; scope_name: string; scope_version: string; span_count: number }[];
  spans: {
    trace_id: string;
    span_id: string;
    parent_span_id: string;
    trace_state: string;
    name: string;
    kind: SpanKind;
    start_ns: number;
    duration_ns: number;
    status_code: SpanStatusCode;
    status_message: string;
    attributes: Record<string, string>;
    events: { time_ns: number; name: string; attributes: Record<string, string> }[];
    links: { trace_id: string; span_id: string; trace_state: string; attributes: Record<string, string> }[];
  }[];
}

export interface DeploymentEvent {
  tenant: string;
  timestamp: number;
  service: string;
  version: string;
  status: string;
  metadata: Record<string, string>;
}

export interface MetricRollup {
  tenant: string;
  service: string;
  metric_name: string;
  labels: Record<string, string>;
  window_start: number;
  window_end: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
}

/**
 * Closed windows of one tenant's service in one record (schemas/rollup_batch.avsc):
 * the rollup processor's output. Built and read by rollup-batch.ts.
 */
export interface RollupBatch {
  tenant: string;
  service: string;
  windows: Omit<MetricRollup, 'tenant' | 'service'>[];
}

export interface Anomaly {
  anomaly_id: string;
  tenant: string;
  service: string;
  metric_name: string;
  labels: Record<string, string>;
  kind: 'metric' | 'error_rate';
  current_value: number;
  baseline_mean: number;
  baseline_std_dev: number;
  baseline_median: number;
  z_score: number;
  deviation_percent: number;
  severity: AnomalySeverity;
  level_shift: boolean;
  consecutive: number;
  detected_at: number;
  source_topic: string;
  source_partition: number;
  source_offset: number;
  /** null in records written before the detector kept them. */
  p_value: number | null;
  anomaly_score: number | null;
}

export interface IncidentRecord {
  incident_id: string;
  tenant: string;
  service: string;
  version: number;
  status: 'open' | 'resolved';
  severity: string;
  opened_at: number;
  updated_at: number;
  resolved_at: number | null;
  signals: { id: string; kind: string; at: number; summary: string; severity: string | null }[];
  signal_count: number;
  suspect_deployment: { id: string; version: string; at: number; minutes_before: number } | null;
}

/**
 * An alert, firing or resolved: from Alertmanager's webhook (source
 * 'alertmanager'), from Autopilot's own alert rules (source 'rule') or from
 * an http_probe job's failures (source 'probe'). Firing alerts are
 * correlation signals for their service.
 */
export interface AlertRecord {
  /** Stable per alert instance and state change: `${fingerprint}:${status}:${starts_at}`. */
  alert_id: string;
  tenant: string;
  service: string;
  source: 'alertmanager' | 'rule' | 'probe';
  alert_name: string;
  status: 'firing' | 'resolved';
  /** labels.severity when present, else 'warning'. */
  severity: string;
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: number;
  ends_at: number | null;
  received_at: number;
  generator_url: string | null;
  /** For rule alerts: the rule and the value that crossed it. */
  rule_id: string | null;
  value: number | null;
}

/** What the analyst concluded about an incident, from the LLM or from the rules. */
export interface AnalysisRecord {
  analysis_id: string;
  incident_id: string;
  tenant: string;
  service: string;
  source: 'llm' | 'rules';
  model: string | null;
  prompt_name: string;
  prompt_version: number;
  experiment_id: string | null;
  variant: string | null;
  /** Why the rules answered instead of the model (timeout, unreachable, invalid_answer, …); null for llm. */
  fallback_reason: string | null;
  duration_ms: number;
  created_at: number;
  root_cause: { description: string; confidence: number; reasoning: string };
  recommended_actions: { action: string; reasoning: string; risk: 'low' | 'medium' | 'high'; priority: number }[];
  severity: string;
  estimated_customer_impact: string;
  /** Incident facts the notifier shows, so it needs no lookup. */
  incident_severity: string;
  incident_opened_at: number;
  signals: { kind: string; at: number; summary: string; severity: string | null }[];
}

/** One notification attempt's outcome: delivered, failed after retries, or suppressed by the cooldown. */
export interface NotificationDelivery {
  delivery_id: string;
  tenant: string;
  service: string;
  target_id: string;
  target_kind: 'slack' | 'webhook';
  reason: string;
  subject_id: string;
  outcome: 'delivered' | 'failed' | 'suppressed';
  attempts: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  at: number;
}

/** One LLM or agent call as the gateway took it (schemas/agent_event.avsc). */
export interface AgentEvent {
  event_id: string;
  tenant: string;
  agent: string;
  model: string;
  provider: string;
  operation: string;
  started_at: number;
  duration_ms: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  /** USD as the sender reported it. */
  cost: number | null;
  status: 'ok' | 'error';
  error_type: string | null;
  session_id: string | null;
  trace_id: string;
  span_id: string;
  source: 'api' | 'otlp';
  attributes: Record<string, string>;
}

/** An agent event priced (schemas/agent_call.avsc): a row of agent_calls. */
export interface AgentCall extends Omit<AgentEvent, 'cost'> {
  cost: number | null;
  cost_source: 'event' | 'price_table' | 'unknown';
  price_version: number;
}

/** One run of a scheduled job (schemas/job_run.avsc). */
export interface JobRun {
  run_id: string;
  tenant: string;
  job_id: string;
  job_name: string;
  kind: string;
  trigger: 'schedule' | 'catch_up' | 'manual';
  scheduled_at: number;
  started_at: number;
  ended_at: number;
  outcome: 'success' | 'failure' | 'timeout' | 'skipped';
  error: string | null;
  items: number;
  /** JSON text: the kind's own account of the run. */
  details: string;
  scheduler: string;
}

/** A change on a third-party status page, for one dependent service (schemas/external_status_change.avsc). */
export interface ExternalStatusChange {
  change_id: string;
  tenant: string;
  /** '' when no service of the tenant is mapped to the subject. */
  service: string;
  job_id: string;
  provider: string;
  subject_kind: 'page' | 'component' | 'incident' | 'maintenance';
  subject_id: string;
  subject_name: string;
  from_status: string | null;
  to_status: string;
  degraded: boolean;
  impact: 'none' | 'minor' | 'major' | 'critical' | 'maintenance';
  message: string;
  url: string;
  at: number;
}

/** A page read into a job's schema by the model (schemas/extraction.avsc). */
export interface ExtractionRecord {
  extraction_id: string;
  tenant: string;
  job_id: string;
  run_id: string;
  url: string;
  model: string | null;
  status: 'ok' | 'invalid' | 'model_unavailable';
  /** JSON text. */
  result: string | null;
  quality: number | null;
  /** JSON text: schema_valid, required_filled, grounded, confidence. */
  quality_details: string;
  raw_answer: string | null;
  source_text: string;
  error: string | null;
  duration_ms: number;
  at: number;
}

/** A page a scrape job fetched (schemas/scraped_page.avsc). */
export interface ScrapedPage {
  page_id: string;
  tenant: string;
  job_id: string;
  run_id: string;
  url: string;
  depth: number;
  status: number;
  content_type: string;
  title: string;
  text: string;
  links: string[];
  fetched_at: number;
}

export type ProposalStatus = 'proposed' | 'approved' | 'rejected' | 'expired' | 'executing' | 'succeeded' | 'failed' | 'blocked' | 'effective' | 'ineffective';

/** A remediation proposal, one record per version (schemas/proposal.avsc). */
export interface ProposalRecord {
  proposal_id: string;
  version: number;
  tenant: string;
  service: string;
  trigger: 'incident' | 'alert' | 'analysis';
  subject_id: string;
  incident_id: string | null;
  policy_id: string;
  policy_name: string;
  action_id: string;
  action_name: string;
  action_kind: string;
  risk: string;
  mode: 'suggest' | 'approve' | 'auto';
  dry_run: boolean;
  variables: Record<string, string>;
  status: ProposalStatus;
  reason: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
  verify_within_ms: number;
  decided_by: string | null;
  decided_at: number | null;
  comment: string | null;
  execution: {
    started_at: number;
    ended_at: number;
    request: string;
    status_code: number | null;
    response_excerpt: string;
    duration_ms: number;
    error: string | null;
  } | null;
}

/** One remediation event, append-only (schemas/audit_event.avsc). */
export interface AuditEvent {
  event_id: string;
  tenant: string;
  at: number;
  actor: string;
  event: string;
  subject_kind: 'proposal' | 'action' | 'policy' | 'settings';
  subject_id: string;
  service: string;
  /** JSON text. */
  details: string;
}

export interface TopicSpec<T> {
  topic: string;
  /** Avro schema as JSON text, straight from the .avsc file. */
  schema: string;
  key(record: T): string;
}

const avsc = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

/** A series that stopped: Prometheus's staleness marker, never a value. */
export interface StaleMarker {
  tenant: string;
  timestamp: number;
  metric_name: string;
  labels: Record<string, string>;
}

/** Labels arrive with sorted keys (see lib/labels.ts), so this is stable. */
export function seriesKey(p: { tenant: string; metric_name: string; labels: Record<string, string> }): string {
  let key = `${p.tenant}\u0000${p.metric_name}`;
  for (const name in p.labels) key += `\u0000${name}\u0000${p.labels[name]}`;
  return key;
}
const serviceKey = (r: { tenant: string; service: string }) => `${r.tenant}\u0000${r.service}`;
const agentKey = (e: { tenant: string; agent: string }) => `${e.tenant}\u0000${e.agent}`;
const jobKey = (r: { tenant: string; job_id: string }) => `${r.tenant}\u0000${r.job_id}`;
/** A trace's key: every span of a trace on one partition, so a consumer sees whole traces. */
export const traceKey = (tenant: string, traceId: string) => `${tenant}\u0000${traceId}`;

export const TOPICS = {
  /**
   * Metric samples travel as batches (metricBatches): the publisher groups a
   * request's points by partition of their series key. autopilot.metrics,
   * one record per sample, is what earlier versions wrote; the sink still
   * drains it.
   */
  metrics: { topic: 'autopilot.metrics', schema: avsc('./metric_point.avsc'), key: seriesKey } as TopicSpec<MetricPoint>,
  metricBatches: { topic: 'autopilot.metric-batches', schema: avsc('./metric_batch.avsc'), key: (b) => b.tenant } as TopicSpec<MetricBatch>,
  /**
   * Log lines travel as batches (logBatches): the publisher groups a
   * request's lines by stream, and the streams by the partition of their
   * tenant and service, the key every record of a service has. The record's
   * key is its first stream's. autopilot.logs, one record per line, is what
   * earlier versions wrote; the sink still drains it.
   */
  logs: { topic: 'autopilot.logs', schema: avsc('./log_entry.avsc'), key: serviceKey } as TopicSpec<LogEntry>,
  logBatches: {
    topic: 'autopilot.log-batches',
    schema: avsc('./log_batch.avsc'),
    key: (b) => serviceKey({ tenant: b.tenant, service: b.symbols[b.streams[0]?.service_ref ?? -1] ?? '' }),
  } as TopicSpec<LogBatch>,
  /**
   * Spans travel as batches only: publish('spans', …) takes batch records or
   * (publishAll) plain spans, and the publisher groups their spans by the
   * partition of their trace key, so a trace's spans share a partition
   * whichever request carried them. The record's key is its first span's.
   */
  spans: {
    topic: 'autopilot.span-batches',
    schema: avsc('./span_batch.avsc'),
    key: (b) => traceKey(b.tenant, b.spans[0]?.trace_id ?? ''),
  } as TopicSpec<SpanBatch>,
  deployments: { topic: 'autopilot.deployments', schema: avsc('./deployment_event.avsc'), key: serviceKey } as TopicSpec<DeploymentEvent>,
  // Written by processors. Keyed by service, like logs and deployments, so one consumer sees all of a service's signals.
  /**
   * Closed windows travel as batches (rollupBatches): the publisher groups a
   * send's windows by service. autopilot.rollups, one record per window, is
   * what earlier versions wrote; the alert processor still drains it.
   */
  rollups: { topic: 'autopilot.rollups', schema: avsc('./metric_rollup.avsc'), key: serviceKey } as TopicSpec<MetricRollup>,
  rollupBatches: { topic: 'autopilot.rollup-batches', schema: avsc('./rollup_batch.avsc'), key: serviceKey } as TopicSpec<RollupBatch>,
  anomalies: { topic: 'autopilot.anomalies', schema: avsc('./anomaly.avsc'), key: serviceKey } as TopicSpec<Anomaly>,
  incidents: { topic: 'autopilot.incidents', schema: avsc('./incident.avsc'), key: serviceKey } as TopicSpec<IncidentRecord>,
  // From Alertmanager's webhook (gateway) and from alert rules (processors).
  alerts: { topic: 'autopilot.alerts', schema: avsc('./alert.avsc'), key: serviceKey } as TopicSpec<AlertRecord>,
  staleMarkers: { topic: 'autopilot.stale-markers', schema: avsc('./stale_marker.avsc'), key: seriesKey } as TopicSpec<StaleMarker>,
  analyses: { topic: 'autopilot.analyses', schema: avsc('./analysis.avsc'), key: serviceKey } as TopicSpec<AnalysisRecord>,
  notifications: { topic: 'autopilot.notifications', schema: avsc('./notification_delivery.avsc'), key: serviceKey } as TopicSpec<NotificationDelivery>,
  // LLM and agent calls: as the gateway took them, then priced by the agents processor. Keyed by agent, so an agent's calls share a partition.
  agentEvents: { topic: 'autopilot.agent-events', schema: avsc('./agent_event.avsc'), key: (e) => agentKey(e) } as TopicSpec<AgentEvent>,
  agentCalls: { topic: 'autopilot.agent-calls', schema: avsc('./agent_call.avsc'), key: (c) => agentKey(c) } as TopicSpec<AgentCall>,
  // Written by the scheduler: job runs and what they produced. Keyed by job, except status changes: by the service they concern, like every signal.
  jobRuns: { topic: 'autopilot.job-runs', schema: avsc('./job_run.avsc'), key: jobKey } as TopicSpec<JobRun>,
  externalStatus: { topic: 'autopilot.external-status', schema: avsc('./external_status_change.avsc'), key: serviceKey } as TopicSpec<ExternalStatusChange>,
  extractions: { topic: 'autopilot.extractions', schema: avsc('./extraction.avsc'), key: jobKey } as TopicSpec<ExtractionRecord>,
  scrapedPages: { topic: 'autopilot.scraped-pages', schema: avsc('./scraped_page.avsc'), key: jobKey } as TopicSpec<ScrapedPage>,
  // Remediation: proposals by service (a service's proposals share a partition, as its incidents do); the audit by tenant.
  proposals: { topic: 'autopilot.proposals', schema: avsc('./proposal.avsc'), key: serviceKey } as TopicSpec<ProposalRecord>,
  audit: { topic: 'autopilot.audit', schema: avsc('./audit_event.avsc'), key: (e) => e.tenant } as TopicSpec<AuditEvent>,
};

/**
 * The partition of a key: FNV-1a (32-bit) over the key's UTF-16 code units,
 * modulo the topic's partition count. Same key, same partition, for as long
 * as the partition count stays. Not Java's murmur2 on purpose: kafkajs's
 * murmur2 partitioner cost about as much CPU as the rest of the produce path.
 */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % partitions;
}

export type RecordKind = keyof typeof TOPICS;
export type RecordOf<K extends RecordKind> = (typeof TOPICS)[K] extends TopicSpec<infer T> ? T : never;

/** Records that could not be decoded or stored land here, raw, with the reason in headers. */
export const DEAD_LETTER_TOPIC = 'autopilot.dead-letter';

export const subjectOf = (topic: string) => `${topic}-value`;
