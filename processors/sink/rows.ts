import type { AlertRecord, AnalysisRecord, Anomaly, DeploymentEvent, IncidentRecord, LogEntry, MetricPoint, NotificationDelivery, StaleMarker } from '../../schemas/topics.ts';
import { TOPICS } from '../../schemas/topics.ts';
import type { Decoded } from '../runtime/processor.ts';

/**
 * Avro records → ClickHouse rows, one mapping per raw table. Each row carries
 * its Kafka partition and offset, the key ReplacingMergeTree deduplicates on.
 */
const position = (d: Decoded) => ({ kafka_partition: d.partition, kafka_offset: d.offset });

export const RAW_TABLES: Record<string, { table: string; row: (d: Decoded) => Record<string, unknown> }> = {
  [TOPICS.metrics.topic]: {
    table: 'metric_points',
    row: (d) => {
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
    },
  },
  [TOPICS.logs.topic]: {
    table: 'log_entries',
    row: (d) => {
      const l = d.value as LogEntry;
      return { tenant: l.tenant, service: l.service, level: l.level, timestamp: l.timestamp, message: l.message, labels: l.labels, ...position(d) };
    },
  },
  [TOPICS.deployments.topic]: {
    table: 'deployments',
    row: (d) => {
      const e = d.value as DeploymentEvent;
      return { tenant: e.tenant, service: e.service, timestamp: e.timestamp, version: e.version, status: e.status, metadata: e.metadata, ...position(d) };
    },
  },
  // Processor output: rows keyed by their own ids (anomaly_id, incident_id + version), so replays collapse too.
  [TOPICS.anomalies.topic]: {
    table: 'anomalies',
    row: (d) => ({ ...(d.value as Anomaly) }),
  },
  [TOPICS.incidents.topic]: {
    table: 'incidents',
    row: (d) => {
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
    },
  },
  [TOPICS.staleMarkers.topic]: {
    table: 'metric_stale_markers',
    row: (d) => {
      const m = d.value as StaleMarker;
      return { tenant: m.tenant, service: m.labels.service ?? '', metric_name: m.metric_name, labels: m.labels, timestamp: m.timestamp, ...position(d) };
    },
  },
  [TOPICS.alerts.topic]: {
    table: 'alerts',
    row: (d) => ({ ...(d.value as AlertRecord) }),
  },
  [TOPICS.analyses.topic]: {
    table: 'analyses',
    row: (d) => {
      const { root_cause, recommended_actions, signals: _, incident_severity: __, ...a } = d.value as AnalysisRecord;
      return {
        ...a,
        root_cause: root_cause.description,
        root_cause_confidence: root_cause.confidence,
        root_cause_reasoning: root_cause.reasoning,
        recommended_actions: JSON.stringify(recommended_actions),
      };
    },
  },
  [TOPICS.notifications.topic]: {
    table: 'notification_deliveries',
    row: (d) => ({ ...(d.value as NotificationDelivery) }),
  },
};
