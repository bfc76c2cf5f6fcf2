import { isoTime } from '../../lib/time.ts';
import type { AlertRecord, AnalysisRecord } from '../../schemas/topics.ts';

/**
 * Generic webhook payloads: plain JSON with a `type` to switch on and an
 * `id` that stays the same across retries of one event, so a receiver can
 * drop duplicates. Fields are the records' own (schemas/topics.ts), except
 * times: epoch ms there, ISO 8601 in UTC here.
 */
export interface IncidentAnalyzedPayload
  extends Pick<
    AnalysisRecord,
    'tenant' | 'service' | 'incident_id' | 'incident_severity' | 'severity' | 'root_cause' | 'recommended_actions' | 'estimated_customer_impact'
  > {
  type: 'incident.analyzed';
  id: AnalysisRecord['analysis_id'];
  incident_url: string;
  incident_opened_at: string;
  signals: (Omit<AnalysisRecord['signals'][number], 'at'> & { at: string })[];
  analysis: Pick<
    AnalysisRecord,
    'analysis_id' | 'source' | 'model' | 'prompt_name' | 'prompt_version' | 'experiment_id' | 'variant' | 'fallback_reason' | 'duration_ms'
  > & { created_at: string };
}

export interface AlertPayload
  extends Pick<
    AlertRecord,
    'tenant' | 'service' | 'alert_name' | 'source' | 'status' | 'severity' | 'fingerprint' | 'labels' | 'annotations' | 'generator_url' | 'rule_id' | 'value'
  > {
  type: `alert.${AlertRecord['status']}`;
  id: AlertRecord['alert_id'];
  starts_at: string;
  ends_at: string | null;
}

export function incidentAnalyzedPayload(a: AnalysisRecord, incidentUrl: string): IncidentAnalyzedPayload {
  return {
    type: 'incident.analyzed',
    id: a.analysis_id,
    tenant: a.tenant,
    service: a.service,
    incident_id: a.incident_id,
    incident_url: incidentUrl,
    incident_severity: a.incident_severity,
    incident_opened_at: isoTime(a.incident_opened_at),
    severity: a.severity,
    root_cause: a.root_cause,
    recommended_actions: [...a.recommended_actions].sort((x, y) => x.priority - y.priority),
    estimated_customer_impact: a.estimated_customer_impact,
    signals: a.signals.map((s) => ({ kind: s.kind, at: isoTime(s.at), summary: s.summary, severity: s.severity })),
    analysis: {
      analysis_id: a.analysis_id,
      source: a.source,
      model: a.model,
      prompt_name: a.prompt_name,
      prompt_version: a.prompt_version,
      experiment_id: a.experiment_id,
      variant: a.variant,
      fallback_reason: a.fallback_reason,
      duration_ms: a.duration_ms,
      created_at: isoTime(a.created_at),
    },
  };
}

export function alertPayload(alert: AlertRecord): AlertPayload {
  return {
    type: alert.status === 'firing' ? 'alert.firing' : 'alert.resolved',
    id: alert.alert_id,
    tenant: alert.tenant,
    service: alert.service,
    alert_name: alert.alert_name,
    source: alert.source,
    status: alert.status,
    severity: alert.severity,
    fingerprint: alert.fingerprint,
    labels: alert.labels,
    annotations: alert.annotations,
    starts_at: isoTime(alert.starts_at),
    ends_at: alert.ends_at === null ? null : isoTime(alert.ends_at),
    generator_url: alert.generator_url,
    rule_id: alert.rule_id,
    value: alert.value,
  };
}
