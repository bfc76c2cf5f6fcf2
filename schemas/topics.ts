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

export interface TopicSpec<T> {
  topic: string;
  /** Avro schema as JSON text, straight from the .avsc file. */
  schema: string;
  key(record: T): string;
}

const avsc = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

/** Labels arrive with sorted keys (see gateway/records.ts), so this is stable. */
const seriesKey = (p: MetricPoint) => `${p.tenant}\u0000${p.metric_name}\u0000${Object.entries(p.labels).flat().join('\u0000')}`;
const serviceKey = (r: { tenant: string; service: string }) => `${r.tenant}\u0000${r.service}`;

export const TOPICS = {
  metrics: { topic: 'autopilot.metrics', schema: avsc('./metric_point.avsc'), key: seriesKey } as TopicSpec<MetricPoint>,
  logs: { topic: 'autopilot.logs', schema: avsc('./log_entry.avsc'), key: serviceKey } as TopicSpec<LogEntry>,
  deployments: { topic: 'autopilot.deployments', schema: avsc('./deployment_event.avsc'), key: serviceKey } as TopicSpec<DeploymentEvent>,
};

export type RecordKind = keyof typeof TOPICS;
export type RecordOf<K extends RecordKind> = (typeof TOPICS)[K] extends TopicSpec<infer T> ? T : never;

/** Records that could not be decoded or stored land here, raw, with the reason in headers. */
export const DEAD_LETTER_TOPIC = 'autopilot.dead-letter';

export const subjectOf = (topic: string) => `${topic}-value`;
