import type { AlertRecord, AnalysisRecord } from '../../schemas/topics.ts';

/** Records for the notify tests: an analysis with two anomalies and three actions, and a rule alert. */
export function sampleAnalysis(overrides: Partial<AnalysisRecord> = {}): AnalysisRecord {
  return {
    analysis_id: 'an-1',
    incident_id: 'inc-42',
    tenant: 'acme',
    service: 'checkout',
    source: 'llm',
    model: 'llama3.2:3b',
    prompt_name: 'incident-analysis',
    prompt_version: 3,
    experiment_id: null,
    variant: null,
    fallback_reason: null,
    duration_ms: 2100,
    created_at: Date.parse('2024-05-01T12:06:00Z'),
    root_cause: {
      description: 'Deployment v2.3.1 raised p99 latency through a slow database query',
      confidence: 0.82,
      reasoning: 'Latency rose two minutes after the deployment; error logs name the orders query.',
    },
    recommended_actions: [
      { action: 'Add an index on orders.customer_id', reasoning: 'The slow query scans the table', risk: 'medium', priority: 2 },
      { action: 'Roll back checkout to v2.3.0', reasoning: 'Restores the previous query plan', risk: 'high', priority: 1 },
      { action: 'Watch the p99 for 15 minutes', reasoning: 'Confirm recovery', risk: 'low', priority: 3 },
    ],
    severity: 'high',
    estimated_customer_impact: 'About 12% of checkouts take over 2 s',
    incident_severity: 'critical',
    incident_opened_at: Date.parse('2024-05-01T12:03:00Z'),
    signals: [
      { kind: 'anomaly', at: Date.parse('2024-05-01T12:02:00Z'), summary: 'http_request_duration_p99 = 950 vs baseline 210 (z 8.4)', severity: 'critical' },
      { kind: 'error_spike', at: Date.parse('2024-05-01T12:03:00Z'), summary: 'ERROR lines = 140/min vs baseline 3', severity: 'high' },
      { kind: 'deployment', at: Date.parse('2024-05-01T12:00:00Z'), summary: 'deployed v2.3.1 (success)', severity: null },
    ],
    ...overrides,
  };
}

export function sampleAlert(overrides: Partial<AlertRecord> = {}): AlertRecord {
  return {
    alert_id: 'fp1:firing:1714564980000',
    tenant: 'acme',
    service: 'checkout',
    source: 'rule',
    alert_name: 'CheckoutLatencyHigh',
    status: 'firing',
    severity: 'critical',
    fingerprint: 'fp1',
    labels: { alertname: 'CheckoutLatencyHigh', service: 'checkout', severity: 'critical' },
    annotations: { summary: 'p99 latency above 500 ms', description: 'p99 has been above 500 ms for 5 minutes' },
    starts_at: Date.parse('2024-05-01T12:03:00Z'),
    ends_at: null,
    received_at: Date.parse('2024-05-01T12:03:01Z'),
    generator_url: 'https://autopilot.example.com/rules/r1',
    rule_id: 'r1',
    value: 950.5,
    ...overrides,
  };
}
