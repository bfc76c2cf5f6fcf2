import { describe, expect, it } from 'vitest';
import { routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';

/**
 * What /v1/alert-rules shows and keeps. CRUD, validation and tenant
 * isolation, shared with notification targets, are in documents.test.ts.
 */
describe('alert rules', () => {
  const rule = { name: 'checkout p99', kind: 'threshold', service: 'checkout', metric: 'latency_ms', field: 'p99', op: 'gt', value: 500, for: '90s' };

  it('shows a rule in the form it takes, defaults spelt out, and keeps durations in ms for the alert processor', async () => {
    const t = routeTestApp();
    const res = await t.a('POST', '/v1/alert-rules', rule);
    expect(res.status).toBe(201);
    const { id, created_at, updated_at, ...shown } = (await res.json()) as Record<string, unknown>;
    expect(shown).toEqual({ ...rule, for: '1m30s', cooldown: '5m', severity: 'warning', enabled: true, labels: {}, annotations: {} });
    const [stored] = await t.memory.rules.list(TEST_TENANTS.a);
    expect(stored).toMatchObject({ id, created_at, updated_at, definition: { for_ms: 90_000, cooldown_ms: 300_000 } });
  });

  it.each([
    ['threshold', rule],
    ['anomaly', { name: 'checkout anomalies', kind: 'anomaly', service: 'checkout', min_severity: 'high' }],
  ])('takes back what it shows: a %s rule read and written unchanged stays the same rule', async (_kind, body) => {
    const t = routeTestApp();
    const {
      id,
      created_at: _,
      updated_at: __,
      ...shown
    } = (await (await t.a('POST', '/v1/alert-rules', body)).json()) as { id: string } & Record<string, unknown>;
    const before = (await t.memory.rules.get(TEST_TENANTS.a, id))!.definition;
    expect((await t.a('PUT', `/v1/alert-rules/${id}`, shown)).status).toBe(200);
    expect((await t.memory.rules.get(TEST_TENANTS.a, id))!.definition).toEqual(before);
  });
});
