import { describe, expect, it } from 'vitest';
import { expectError, routeTestApp } from '../../test/helpers/gateway-app.ts';

/**
 * A gateway running without ClickHouse (no CLICKHOUSE_URL, processors
 * elsewhere) still serves ingest, and answers the read/config API with a
 * 503 that says why and when to look again, never a 500.
 */
describe('the incidents and configuration API without ClickHouse', () => {
  it.each([
    ['GET', '/v1/incidents', undefined],
    ['POST', '/v1/incidents/inc_1/feedback', { helpful: true }],
    ['GET', '/v1/alert-rules', undefined],
    ['POST', '/v1/notification-targets', { name: 'x', kind: 'webhook', url: 'https://hooks.example.com' }],
    ['GET', '/v1/prompts/triage', undefined],
    ['POST', '/v1/experiments/e1/stop', undefined],
  ])('%s %s is 503 with Retry-After 30', async (method, path, body) => {
    const res = await routeTestApp({ withStores: false }).a(method, path, body);
    expect(res.headers.get('retry-after')).toBe('30');
    expect((await expectError(res, 503, 'unavailable')).message).toMatch(/set CLICKHOUSE_URL/);
  });

  it('still takes ingest', async () => {
    const t = routeTestApp({ withStores: false });
    expect((await t.a('POST', '/v1/deployments', { timestamp: Date.now(), service: 'checkout', version: 'v3', status: 'started' })).status).toBe(202);
  });
});
