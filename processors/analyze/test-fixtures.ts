import type { IncidentRecord } from '../../schemas/topics.ts';
import type { AnalysisAnswer } from './answer.ts';
import type { IncidentContext } from './context.ts';

/** Shared by this folder's tests: an incident with a suspect deployment, and an empty context around an incident. */
export const T = Date.UTC(2026, 10, 23, 12, 0, 0);
export const MIN = 60_000;

export function incident(over: Partial<IncidentRecord> = {}): IncidentRecord {
  return {
    incident_id: 'inc_0123456789abcdef0123',
    tenant: 'acme',
    service: 'checkout',
    version: 3,
    status: 'open',
    severity: 'critical',
    opened_at: T,
    updated_at: T + 8 * MIN,
    resolved_at: null,
    signals: [
      { id: 'dep_0_5', kind: 'deployment', at: T, summary: 'deployed v2.4.0 (succeeded) commit 3f78685', severity: null },
      { id: 'an-1', kind: 'anomaly', at: T + 3 * MIN, summary: 'latency_ms = 812 vs baseline 120 (z 8.1)', severity: 'critical' },
      { id: 'an-2', kind: 'error_spike', at: T + 5 * MIN, summary: 'error_rate = 0.2 vs baseline 0.01 (z 6.3)', severity: 'high' },
    ],
    signal_count: 3,
    suspect_deployment: { id: 'dep_0_5', version: 'v2.4.0', at: T, minutes_before: 3 },
    ...over,
  };
}

export function context(over: Partial<IncidentContext> = {}): IncidentContext {
  return { incident: incident(), anomalies: [], errorLogs: [], deployments: [], alerts: [], ...over };
}

/** A model answer that passes validation. */
export const VALID_ANSWER: AnalysisAnswer = {
  root_cause: { description: 'The deployment of v2.4.0 broke checkout.', confidence: 72, reasoning: 'Latency rose 3 min after it.' },
  recommended_actions: [{ action: 'Roll back to v2.3.9', reasoning: 'Fastest mitigation.', risk: 'low', priority: 1 }],
  severity: 'high',
  estimated_customer_impact: 'Checkout is slow for most users.',
};
