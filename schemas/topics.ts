import { readFileSync } from 'node:fs';

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

export interface LogEntry {
  tenant: string;
  timestamp: number;
  level: string;
  message: string;
  service: string;
  labels: Record<string, string>;
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
  severity: 'medium' | 'high' | 'critical';
  level_shift: boolean;
  consecutive: number;
  detected_at: number;
  source_topic: string;
  source_partition: number;
  source_offset: number;
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

export interface TopicSpec<T> {
  topic: string;
  /** Avro schema as JSON text, straight from the .avsc file. */
  schema: string;
  key(record: T): string;
}

const avsc = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

/** Labels arrive with sorted keys (see gateway/records.ts), so this is stable. */
function seriesKey(p: MetricPoint): string {
  let key = `${p.tenant}\u0000${p.metric_name}`;
  for (const name in p.labels) key += `\u0000${name}\u0000${p.labels[name]}`;
  return key;
}
const serviceKey = (r: { tenant: string; service: string }) => `${r.tenant}\u0000${r.service}`;

export const TOPICS = {
  metrics: { topic: 'autopilot.metrics', schema: avsc('./metric_point.avsc'), key: seriesKey } as TopicSpec<MetricPoint>,
  logs: { topic: 'autopilot.logs', schema: avsc('./log_entry.avsc'), key: serviceKey } as TopicSpec<LogEntry>,
  deployments: { topic: 'autopilot.deployments', schema: avsc('./deployment_event.avsc'), key: serviceKey } as TopicSpec<DeploymentEvent>,
  // Written by processors. Keyed by service, like logs and deployments, so one consumer sees all of a service's signals.
  rollups: { topic: 'autopilot.rollups', schema: avsc('./metric_rollup.avsc'), key: serviceKey } as TopicSpec<MetricRollup>,
  anomalies: { topic: 'autopilot.anomalies', schema: avsc('./anomaly.avsc'), key: serviceKey } as TopicSpec<Anomaly>,
  incidents: { topic: 'autopilot.incidents', schema: avsc('./incident.avsc'), key: serviceKey } as TopicSpec<IncidentRecord>,
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
