import { describe, expect, it } from 'vitest';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { logItem, metricItem } from '../../test/helpers/ingest-bodies.ts';

/**
 * JSON ingest (POST /v1/metrics, /v1/logs, /v1/deployments) through the app:
 * a batch is all or nothing, and a refusal says which item and field.
 * What every ingest path shares (401, 413, 429, 503) is in ingest-contract.test.ts.
 */
describe('JSON ingest', () => {
  it.each([
    ['one object', metricItem(), 1],
    ['an array', [metricItem(), metricItem({ value: 2 }), metricItem({ value: 3 })], 3],
  ])('takes %s as a batch of its items', async (_what, body, count) => {
    const t = routeTestApp();
    const res = await t.a('POST', '/v1/metrics', body);
    expect(await res.json()).toEqual({ accepted: count });
    expect(res.status).toBe(202);
    expect(t.publisher.records('metrics')).toHaveLength(count);
  });

  it('sends Kafka the normalised record: epoch ms, the canonical level, labels as sorted strings, the tenant of the key', async () => {
    const t = routeTestApp();
    const at = new Date(Date.now() - 5000);
    const zoned = at.toISOString().replace('Z', '+00:00');
    expect((await t.a('POST', '/v1/logs', logItem({ timestamp: zoned, level: 'WARNING', labels: { zone: 'b', attempt: 3, canary: true } }))).status).toBe(202);
    expect(t.publisher.records('logs')).toEqual([
      {
        tenant: TEST_TENANTS.a,
        timestamp: at.getTime(),
        level: 'warn',
        message: 'payment failed',
        service: 'checkout',
        labels: { attempt: '3', canary: 'true', zone: 'b' },
      },
    ]);
  });

  it('refuses a body that names a tenant: only the key decides, and nothing is sent', async () => {
    const t = routeTestApp();
    const error = await expectError(await t.a('POST', '/v1/metrics', [metricItem({ tenant: TEST_TENANTS.b })]), 400, 'invalid_records');
    expect(error.details).toEqual([{ index: 0, path: '', message: expect.stringContaining('tenant') }]);
    expect(t.publisher.published).toEqual([]);
  });

  it('refuses a batch with invalid items whole, naming each by index and field', async () => {
    const t = routeTestApp();
    const batch = [metricItem(), metricItem({ value: 'fast' }), metricItem(), metricItem({ labels: { zone: 'b' } })];
    const error = await expectError(await t.a('POST', '/v1/metrics', batch), 400, 'invalid_records');
    expect(error.message).toBe('2 of 4 items are invalid; nothing was written');
    expect(error.details).toEqual([
      { index: 1, path: 'value', message: expect.any(String) },
      { index: 3, path: 'labels', message: 'labels.service is required' },
    ]);
    expect(t.publisher.published).toEqual([]);
  });

  it('lists at most 100 problems and says how many more there were', async () => {
    const t = routeTestApp();
    const error = await expectError(
      await t.a(
        'POST',
        '/v1/logs',
        Array.from({ length: 150 }, () => logItem({ level: 'loud' })),
      ),
      400,
      'invalid_records',
    );
    const details = error.details as unknown[];
    expect(details).toHaveLength(101);
    expect(details.at(-1)).toEqual({ truncated: 50 });
  });

  it.each([
    ['an empty batch', '[]', 400, 'bad_request', /empty batch/],
    ['an empty body', '', 400, 'bad_request', /empty body/],
    ['malformed JSON', '[{"timestamp": ', 400, 'bad_request', /malformed JSON/],
    [
      'a batch over maxBatch',
      JSON.stringify(Array.from({ length: 4 }, () => metricItem())),
      413,
      'payload_too_large',
      /batch of 4 items is over the limit of 3/,
    ],
  ])('refuses %s, sending nothing', async (_what, body, status, code, message) => {
    const t = routeTestApp({ maxBatch: 3 });
    const error = await expectError(await t.a('POST', '/v1/metrics', body, { 'content-type': 'application/json' }), status, code);
    expect(error.message).toMatch(message);
    expect(t.publisher.published).toEqual([]);
  });

  it.each([
    ['text/plain', 415],
    ['application/x-www-form-urlencoded', 415],
    ['application/x-protobuf', 415],
    ['application/json; charset=utf-8', 202],
    ['application/vnd.autopilot+json', 202],
    [undefined, 202],
  ])('reads the body by its Content-Type %s: %i', async (contentType, status) => {
    const t = routeTestApp();
    // Bytes, not a string: fetch gives a string body text/plain when no Content-Type is set.
    const body = Buffer.from(JSON.stringify({ timestamp: Date.now(), service: 'checkout', version: 'v2', status: 'started' }));
    const res = await t.a('POST', '/v1/deployments', body, contentType ? { 'content-type': contentType } : {});
    if (status === 415) await expectError(res, 415, 'unsupported_media_type');
    else expect(res.status).toBe(202);
    expect(t.publisher.records('deployments')).toHaveLength(status === 202 ? 1 : 0);
  });
});
