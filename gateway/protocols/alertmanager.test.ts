import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../../lib/errors.ts';
import { parseAlertmanagerWebhook, toAlertRecords } from './alertmanager.ts';

/** Shaped like what Alertmanager 0.27 posts to a webhook_config: one firing and one resolved alert in a group. */
const payload = {
  receiver: 'autopilot',
  status: 'firing',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'HighErrorRate', job: 'checkout', severity: 'critical', instance: 'checkout-1:8080', env: 'prod' },
      annotations: { summary: 'Error rate above 5%', description: 'checkout 5xx ratio is 7.2%' },
      startsAt: '2026-03-01T10:15:30.123456789Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=rate%28http_errors_total%5B5m%5D%29+%3E+0.05',
      fingerprint: '7be3a1c4f2d9e801',
    },
    {
      status: 'resolved',
      labels: { alertname: 'HighLatency', service: 'payments', job: 'payments-api', env: 'prod' },
      annotations: { summary: 'p99 above 2s' },
      startsAt: '2026-03-01T09:00:00+01:00',
      endsAt: '2026-03-01T10:05:00.5Z',
      generatorURL: '',
      fingerprint: '0c1d2e3f4a5b6c7d',
    },
  ],
  groupLabels: { env: 'prod' },
  commonLabels: { env: 'prod' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  version: '4',
  groupKey: '{}:{env="prod"}',
  truncatedAlerts: 0,
};

const RECEIVED = Date.UTC(2026, 2, 1, 10, 16);

describe('Alertmanager webhook', () => {
  it('maps a firing and a resolved alert to AlertRecords', () => {
    const [firing, resolved] = toAlertRecords('acme', parseAlertmanagerWebhook(payload), RECEIVED);
    const firingStart = Date.UTC(2026, 2, 1, 10, 15, 30, 123);
    expect(firing).toEqual({
      alert_id: `7be3a1c4f2d9e801:firing:${firingStart}`,
      tenant: 'acme',
      service: 'checkout',
      source: 'alertmanager',
      alert_name: 'HighErrorRate',
      status: 'firing',
      severity: 'critical',
      fingerprint: '7be3a1c4f2d9e801',
      labels: { alertname: 'HighErrorRate', env: 'prod', instance: 'checkout-1:8080', job: 'checkout', severity: 'critical' },
      annotations: { description: 'checkout 5xx ratio is 7.2%', summary: 'Error rate above 5%' },
      starts_at: firingStart,
      ends_at: null,
      received_at: RECEIVED,
      generator_url: payload.alerts[0]!.generatorURL,
      rule_id: null,
      value: null,
    });
    expect(Object.keys(firing!.labels)).toEqual(['alertname', 'env', 'instance', 'job', 'severity']);
    // service wins over job; no severity label means warning; an empty generatorURL is null.
    expect(resolved).toMatchObject({
      service: 'payments',
      status: 'resolved',
      severity: 'warning',
      starts_at: Date.UTC(2026, 2, 1, 8, 0, 0),
      ends_at: Date.UTC(2026, 2, 1, 10, 5, 0, 500),
      generator_url: null,
      alert_id: `0c1d2e3f4a5b6c7d:resolved:${Date.UTC(2026, 2, 1, 8)}`,
    });
  });

  it('ignores fields it does not read, and defaults missing maps', () => {
    const { commonAnnotations: _, ...rest } = payload;
    const alerts = [{ ...payload.alerts[1]!, annotations: undefined, someFutureField: true }];
    const parsed = parseAlertmanagerWebhook({ ...rest, alerts, anotherFutureField: 1 });
    expect(toAlertRecords('acme', parsed, RECEIVED)[0]!.annotations).toEqual({});
  });

  it('falls back to app, then unknown, for the service and alert name', () => {
    const alert = (labels: Record<string, string>) => ({ ...payload.alerts[0]!, labels });
    const records = toAlertRecords('acme', parseAlertmanagerWebhook({ ...payload, alerts: [alert({ app: 'web', alertname: 'A' }), alert({ team: 'x' })] }), RECEIVED);
    expect(records.map((r) => [r.service, r.alert_name])).toEqual([
      ['web', 'A'],
      ['unknown', 'unknown'],
    ]);
  });

  it('refuses another version, a bad status or time, or an alert without fingerprint, with a 400 naming the field', () => {
    const refused = (body: unknown) => {
      try {
        parseAlertmanagerWebhook(body);
      } catch (err) {
        expect(err).toBeInstanceOf(AutopilotError);
        return err as AutopilotError;
      }
      throw new Error('expected a refusal');
    };
    expect(refused({ ...payload, version: '3' }).message).toBe('invalid Alertmanager webhook: version: only webhook payload version "4" is read');
    const badAlert = (change: object) => refused({ ...payload, alerts: [{ ...payload.alerts[0]!, ...change }] });
    expect(badAlert({ status: 'pending' }).message).toMatch(/alerts\.0\.status/);
    expect(badAlert({ startsAt: 'yesterday' }).message).toMatch(/alerts\.0\.startsAt: RFC 3339/);
    expect(badAlert({ fingerprint: '' }).message).toMatch(/alerts\.0\.fingerprint: fingerprint is required/);
    expect(badAlert({ labels: { alertname: 5 } }).status).toBe(400);
    expect(refused('not an object').code).toBe('bad_request');
  });
});
