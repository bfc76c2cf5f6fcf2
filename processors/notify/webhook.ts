import type { AlertRecord, AnalysisRecord } from '../../schemas/topics.ts';

/**
 * Generic webhook payloads: plain JSON with a `type` to switch on and an
 * `id` that stays the same across retries of one event, so a receiver can
 * drop duplicates. Times are ISO 8601 in UTC.
 */
export interface IncidentAnalyzedPayload {
  type: 'incident.analyzed';
  id: string;
  tenant: string;
  service: string;
  incident_id: string;
  incident_url: string;
  incident_severity: string;
  incident_opened_at: string;
  severity: string;
  root_cause: AnalysisRecord['root_cause'];
  recommended_actions: AnalysisRecord['recommended_actions'];
  estimated_customer_impact: string;
  signals: { kind: string; at: string; summary: string; severity: string | null }[];
  analysis: {
    analysis_id: string;
    source: 'llm' | 'rules';
    model: string | null;
    prompt_name: string;
    prompt_version: number;
    experiment_id: string | null;
    variant: string | null;
    fallback_reason: string | null;
    duration_ms: number;
    created_at: string;
  };
}

export interface AlertPayload {
  type: 'alert.firing' | 'alert.resolved';
  id: string;
  tenant: string;
  service: string;
  alert_name: string;
  source: AlertRecord['source'];
  status: AlertRecord['status'];
  severity: string;
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  starts_at: string;
  ends_at: string | null;
  generator_url: string | null;
  rule_id: string | null;
  value: number | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function incidentAnalyzedPayload(a: AnalysisRecord, incidentUrl: string): IncidentAnalyzedPayload {
  return {
    type: 'incident.analyzed',
    id: a.analysis_id,
    tenant: a.tenant,
    service: a.service,
    incident_id: a.incident_id,
    incident_url: incidentUrl,
    incident_severity: a.incident_severity,
    incident_opened_at: iso(a.incident_opened_at),
    severity: a.severity,
    root_cause: a.root_cause,
    recommended_actions: [...a.recommended_actions].sort((x, y) => x.priority - y.priority),
    estimated_customer_impact: a.estimated_customer_impact,
    signals: a.signals.map((s) => ({ kind: s.kind, at: iso(s.at), summary: s.summary, severity: s.severity })),
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
      created_at: iso(a.created_at),
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
    starts_at: iso(alert.starts_at),
    ends_at: alert.ends_at === null ? null : iso(alert.ends_at),
    generator_url: alert.generator_url,
    rule_id: alert.rule_id,
    value: alert.value,
  };
}
