import { describe, expect, it } from 'vitest';
import { sampleAlert, sampleAnalysis } from '../../test/fixtures/notifications.ts';
import { alertPayload, incidentAnalyzedPayload } from './webhook.ts';

describe('webhook payloads', () => {
  it('describes an analyzed incident, actions by priority, times in ISO 8601', () => {
    const p = incidentAnalyzedPayload(sampleAnalysis(), 'https://autopilot.example.com/incidents/inc-42');
    expect(p).toMatchObject({
      type: 'incident.analyzed',
      id: 'an-1',
      incident_id: 'inc-42',
      tenant: 'acme',
      service: 'checkout',
      severity: 'high',
      incident_severity: 'critical',
      incident_opened_at: '2024-05-01T12:03:00.000Z',
      incident_url: 'https://autopilot.example.com/incidents/inc-42',
      root_cause: { confidence: 0.82 },
      analysis: { source: 'llm', model: 'llama3.2:3b', prompt_name: 'incident-analysis', prompt_version: 3, created_at: '2024-05-01T12:06:00.000Z' },
    });
    expect(p.recommended_actions.map((a) => a.priority)).toEqual([1, 2, 3]);
    expect(p.signals[0]).toEqual({
      kind: 'anomaly',
      at: '2024-05-01T12:02:00.000Z',
      summary: 'http_request_duration_p99 = 950 vs baseline 210 (z 8.4)',
      severity: 'critical',
    });
    // Plain JSON: survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('describes firing and resolved alerts', () => {
    expect(alertPayload(sampleAlert())).toMatchObject({
      type: 'alert.firing',
      id: 'fp1:firing:1714564980000',
      status: 'firing',
      ends_at: null,
      value: 950.5,
      rule_id: 'r1',
    });
    const resolved = alertPayload(sampleAlert({ status: 'resolved', ends_at: Date.parse('2024-05-01T12:20:00Z') }));
    expect(resolved).toMatchObject({ type: 'alert.resolved', starts_at: '2024-05-01T12:03:00.000Z', ends_at: '2024-05-01T12:20:00.000Z' });
  });
});
