import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../../lib/errors.ts';
import { DAY_MS } from '../../lib/time.ts';
import { MAX_LABEL_NAME, MAX_LABEL_VALUE, MAX_SERVICE } from '../records.ts';
import { MAX_ANNOTATION_VALUE, parseAlertmanagerWebhook, toAlertRecords } from './alertmanager.ts';

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

const refused = (body: unknown, now = RECEIVED) => {
  try {
    parseAlertmanagerWebhook(body, now);
  } catch (err) {
    expect(err).toBeInstanceOf(AutopilotError);
    return err as AutopilotError;
  }
  throw new Error('expected a refusal');
};

describe('Alertmanager webhook', () => {
  it('maps a firing and a resolved alert to AlertRecords', () => {
    const [firing, resolved] = toAlertRecords('acme', parseAlertmanagerWebhook(payload, RECEIVED), RECEIVED);
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
    const parsed = parseAlertmanagerWebhook({ ...rest, alerts, anotherFutureField: 1 }, RECEIVED);
    expect(toAlertRecords('acme', parsed, RECEIVED)[0]!.annotations).toEqual({});
  });

  it('falls back to app, then unknown, for the service and alert name', () => {
    const alert = (labels: Record<string, string>) => ({ ...payload.alerts[0]!, labels });
    const records = toAlertRecords(
      'acme',
      parseAlertmanagerWebhook({ ...payload, alerts: [alert({ app: 'web', alertname: 'A' }), alert({ team: 'x' })] }, RECEIVED),
      RECEIVED,
    );
    expect(records.map((r) => [r.service, r.alert_name])).toEqual([
      ['web', 'A'],
      ['unknown', 'unknown'],
    ]);
  });

  it('refuses another version, a bad status or time, or an alert without fingerprint, with a 400 naming the field', () => {
    expect(refused({ ...payload, version: '3' }).message).toBe('invalid Alertmanager webhook: version: only webhook payload version "4" is read');
    const badAlert = (change: object) => refused({ ...payload, alerts: [{ ...payload.alerts[0]!, ...change }] });
    expect(badAlert({ status: 'pending' }).message).toMatch(/alerts\.0\.status/);
    expect(badAlert({ startsAt: 'yesterday' }).message).toMatch(/alerts\.0\.startsAt: RFC 3339/);
    expect(badAlert({ fingerprint: '' }).message).toMatch(/alerts\.0\.fingerprint: fingerprint is required/);
    expect(badAlert({ labels: { alertname: 5 } }).status).toBe(400);
    expect(refused('not an object').code).toBe('bad_request');
  });
});

/**
 * Times and sizes. Before these rules every case below parsed (the old
 * parseAlertmanagerWebhook checked only the RFC 3339 shape and string types),
 * so each `refused(...)` here threw "expected a refusal".
 */
describe('Alertmanager webhook bounds', () => {
  const firing = payload.alerts[0]!;
  const resolved = payload.alerts[1]!;
  const iso = (ms: number) => new Date(ms).toISOString();
  const withAlerts = (...alerts: object[]) => ({ ...payload, alerts });
  const details = (err: AutopilotError) => err.details as { path: string; message: string }[];

  it.each(['1970-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '0001-01-01T00:00:00Z', '1899-12-31T00:00:00Z', '2300-01-01T00:00:00Z'])(
    'refuses startsAt %s, naming the alert index and field',
    (startsAt) => {
      const err = refused(withAlerts(firing, { ...firing, startsAt }));
      expect(err.code).toBe('bad_request');
      expect(err.status).toBe(400);
      expect(details(err)).toEqual([{ path: 'alerts.1.startsAt', message: expect.stringContaining(startsAt) }]);
      expect(err.message).toContain('alerts.1.startsAt');
    },
  );

  it('takes startsAt from a year ago to a day ahead: a long-firing alert is fine', () => {
    for (const startsAt of [RECEIVED - 365 * DAY_MS, RECEIVED - 200 * DAY_MS, RECEIVED + DAY_MS]) {
      expect(() => parseAlertmanagerWebhook(withAlerts({ ...firing, startsAt: iso(startsAt) }), RECEIVED)).not.toThrow();
    }
    expect(details(refused(withAlerts({ ...firing, startsAt: iso(RECEIVED - 365 * DAY_MS - 1) })))[0]!.message).toContain('365 days ago');
    expect(details(refused(withAlerts({ ...firing, startsAt: iso(RECEIVED + DAY_MS + 1) })))[0]!.message).toContain('1 day in the future');
  });

  it("takes Go's zero time as endsAt in any spelling; otherwise endsAt runs from startsAt to a day ahead", () => {
    for (const endsAt of ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z', '0001-01-01T00:00:00+00:00']) {
      const [record] = toAlertRecords('acme', parseAlertmanagerWebhook(withAlerts({ ...resolved, endsAt }), RECEIVED), RECEIVED);
      expect(record!.ends_at).toBeNull();
    }
    const starts = Date.parse(resolved.startsAt);
    expect(() => parseAlertmanagerWebhook(withAlerts({ ...resolved, endsAt: iso(starts) }), RECEIVED)).not.toThrow();
    expect(details(refused(withAlerts(resolved, { ...resolved, endsAt: iso(starts - 1) })))).toEqual([
      { path: 'alerts.1.endsAt', message: expect.stringContaining('before startsAt') },
    ]);
    expect(details(refused(withAlerts({ ...resolved, endsAt: '9999-12-31T23:59:59Z' })))).toEqual([
      { path: 'alerts.0.endsAt', message: expect.stringContaining('in the future') },
    ]);
  });

  it('caps labels as the other ingest paths do, and the service as records.ts does', () => {
    const labelled = (labels: Record<string, string>) => withAlerts(firing, { ...firing, labels: { alertname: 'A', ...labels } });
    const huge = refused(labelled({ service: 'x'.repeat(100 * 1024) }));
    expect(details(huge)).toEqual([{ path: 'alerts.1.labels', message: expect.stringContaining(`label service has a value longer than ${MAX_LABEL_VALUE}`) }]);
    expect(details(refused(labelled({ service: 'x'.repeat(MAX_SERVICE + 1) })))).toEqual([
      { path: 'alerts.1.labels.service', message: expect.stringContaining(`longer than ${MAX_SERVICE}`) },
    ]);
    // The service may come from job: the same cap holds there.
    expect(details(refused(labelled({ job: 'j'.repeat(MAX_SERVICE + 1) })))[0]!.path).toBe('alerts.1.labels.job');
    expect(details(refused(labelled({ ['n'.repeat(MAX_LABEL_NAME + 1)]: 'v' })))[0]).toMatchObject({ path: 'alerts.1.labels' });
    // At the caps, accepted.
    const atCaps = labelled({ service: 's'.repeat(MAX_SERVICE), ['n'.repeat(MAX_LABEL_NAME)]: 'v'.repeat(MAX_LABEL_VALUE) });
    expect(() => parseAlertmanagerWebhook(atCaps, RECEIVED)).not.toThrow();
  });

  it('caps annotation values at MAX_ANNOTATION_VALUE and names at the label-name cap', () => {
    const annotated = (annotations: Record<string, string>) => withAlerts({ ...firing, annotations });
    expect(() => parseAlertmanagerWebhook(annotated({ description: 'd'.repeat(MAX_ANNOTATION_VALUE) }), RECEIVED)).not.toThrow();
    expect(details(refused(annotated({ description: 'd'.repeat(MAX_ANNOTATION_VALUE + 1) })))).toEqual([
      { path: 'alerts.0.annotations.description', message: expect.stringContaining(String(MAX_ANNOTATION_VALUE)) },
    ]);
    expect(details(refused(annotated({ ['n'.repeat(MAX_LABEL_NAME + 1)]: 'v' })))[0]!.path).toBe('alerts.0.annotations');
  });

  it('lists every alert out of bounds, not only the first', () => {
    const err = refused(withAlerts({ ...firing, startsAt: '1970-01-01T00:00:00Z' }, firing, { ...resolved, endsAt: '9999-01-01T00:00:00Z' }));
    expect(details(err).map((d) => d.path)).toEqual(['alerts.0.startsAt', 'alerts.2.endsAt']);
  });
});
