import { describe, expect, it } from 'vitest';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { alert, webhook } from '../../test/helpers/ingest-bodies.ts';

/**
 * POST /v1/alertmanager through the app: one alert record per alert, all or
 * nothing. The payload's rules are in protocols/alertmanager.test.ts;
 * 401/413/429/503 in ingest-contract.test.ts.
 */
describe("Alertmanager's webhook", () => {
  const startsAt = new Date(Date.now() - 3_600_000).toISOString();
  const endsAt = new Date(Date.now() - 60_000).toISOString();

  it('sends one alert record per alert, firing and resolved, and answers 202 with the count', async () => {
    const t = routeTestApp();
    const res = await t.a(
      'POST',
      '/v1/alertmanager',
      webhook([alert({ startsAt }), alert({ status: 'resolved', startsAt, endsAt, fingerprint: 'beef', labels: { alertname: 'Down', job: 'payments' } })]),
    );
    expect(await res.json()).toEqual({ accepted: 2 });
    expect(res.status).toBe(202);
    const [firing, resolved] = t.publisher.records('alerts');
    expect(firing).toMatchObject({
      tenant: TEST_TENANTS.a,
      source: 'alertmanager',
      status: 'firing',
      service: 'checkout',
      alert_name: 'HighLatency',
      severity: 'critical',
      ends_at: null,
    });
    expect(resolved).toMatchObject({
      tenant: TEST_TENANTS.a,
      status: 'resolved',
      service: 'payments',
      severity: 'warning',
      ends_at: Date.parse(endsAt),
      alert_id: `beef:resolved:${Date.parse(startsAt)}`,
    });
  });

  it('reads a payload with fields it does not know, as a newer Alertmanager may send', async () => {
    const t = routeTestApp();
    const res = await t.a('POST', '/v1/alertmanager', { ...webhook([{ ...alert(), silencedBy: [] }]), truncatedAlerts: 0, futureField: { x: 1 } });
    expect(res.status).toBe(202);
    expect(t.publisher.records('alerts')).toHaveLength(1);
  });

  it.each([
    ['a missing fingerprint', { fingerprint: '' }, 'alerts.1.fingerprint', /fingerprint is required/],
    ['a start in 1899', { startsAt: '1899-12-31T00:00:00Z' }, 'alerts.1.startsAt', /days ago/],
    [
      'an end before its start',
      { status: 'resolved', startsAt, endsAt: new Date(Date.parse(startsAt) - 1000).toISOString() },
      'alerts.1.endsAt',
      /before startsAt/,
    ],
  ])('refuses the whole notification for %s in one alert, naming it, and sends nothing', async (_what, bad, path, message) => {
    const t = routeTestApp();
    const error = await expectError(await t.a('POST', '/v1/alertmanager', webhook([alert(), alert(bad)])), 400, 'bad_request');
    expect(error.details).toEqual([{ path, message: expect.stringMatching(message) }]);
    expect(t.publisher.published).toEqual([]);
  });
});
