import { describe, expect, it } from 'vitest';
import type { RecordKind } from '../../schemas/topics.ts';
import { client, expectError, routeTestApp, TEST_KEYS, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import {
  alert,
  deploymentItem,
  JSON_HEADERS,
  LOKI_PROTO_HEADERS,
  logItem,
  lokiGzipJson,
  lokiJson,
  lokiProto,
  metricItem,
  REMOTE_WRITE_V1_HEADERS,
  REMOTE_WRITE_V2_HEADERS,
  remoteWriteV1,
  remoteWriteV2,
  webhook,
} from '../../test/helpers/ingest-bodies.ts';
import { KAFKA_DOWN_RETRY_AFTER } from '../../test/helpers/publisher-stub.ts';

/**
 * What every ingest path promises, protocol by protocol, on the app with a
 * stub publisher: the key decides the tenant (a body that names another
 * changes nothing), and every refusal (401, 413, 429, 503) is the one error
 * shape, says when to retry where retrying helps, and sends nothing to Kafka.
 * Each body below claims tenant-b somewhere and carries `count` records.
 */
const now = Date.now();
const claimsB = { tenant: TEST_TENANTS.b };
const series = [
  {
    labels: { __name__: 'http_requests_total', job: 'checkout', ...claimsB },
    samples: [
      { value: 1, timestamp: now - 1000 },
      { value: 2, timestamp: now },
    ],
  },
];
const streams = [
  {
    labels: { service_name: 'checkout', ...claimsB },
    lines: [
      { ms: now - 1000, line: 'slow' },
      { ms: now, line: 'failed' },
    ],
  },
];

interface Protocol {
  name: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
  accepted: 202 | 204;
  kind: RecordKind;
  count: number;
}

const json = (items: unknown) => JSON.stringify(items);
const PROTOCOLS: Protocol[] = [
  {
    name: 'JSON metrics',
    path: '/v1/metrics',
    headers: JSON_HEADERS,
    body: json([metricItem({ labels: { service: 'checkout', ...claimsB } }), metricItem()]),
    accepted: 202,
    kind: 'metrics',
    count: 2,
  },
  { name: 'JSON logs', path: '/v1/logs', headers: JSON_HEADERS, body: json([logItem({ labels: claimsB })]), accepted: 202, kind: 'logs', count: 1 },
  {
    name: 'JSON deployments',
    path: '/v1/deployments',
    headers: JSON_HEADERS,
    body: json(deploymentItem({ metadata: claimsB })),
    accepted: 202,
    kind: 'deployments',
    count: 1,
  },
  { name: 'remote-write 1.0', path: '/api/v1/write', headers: REMOTE_WRITE_V1_HEADERS, body: remoteWriteV1(series), accepted: 204, kind: 'metrics', count: 2 },
  { name: 'remote-write 2.0', path: '/api/v1/write', headers: REMOTE_WRITE_V2_HEADERS, body: remoteWriteV2(series), accepted: 204, kind: 'metrics', count: 2 },
  { name: 'Loki JSON', path: '/loki/api/v1/push', headers: JSON_HEADERS, body: lokiJson(streams), accepted: 204, kind: 'logs', count: 2 },
  {
    name: 'Loki gzip JSON',
    path: '/loki/api/v1/push',
    headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' },
    body: lokiGzipJson(streams),
    accepted: 204,
    kind: 'logs',
    count: 2,
  },
  { name: 'Loki protobuf', path: '/loki/api/v1/push', headers: LOKI_PROTO_HEADERS, body: lokiProto(streams), accepted: 204, kind: 'logs', count: 2 },
  {
    name: 'Alertmanager',
    path: '/v1/alertmanager',
    headers: JSON_HEADERS,
    body: json(webhook([alert({ labels: { alertname: 'A', service: 'checkout', ...claimsB } })])),
    accepted: 202,
    kind: 'alerts',
    count: 1,
  },
];

describe.each(PROTOCOLS)('$name ($path)', (p) => {
  const send = (t: ReturnType<typeof routeTestApp>, key: string | undefined, headers: Record<string, string> = {}) =>
    client(t.app, key)('POST', p.path, p.body, { ...p.headers, ...headers });

  it(`answers ${p.accepted} once every record reached Kafka, each stamped with the key's tenant`, async () => {
    const t = routeTestApp();
    const res = await send(t, TEST_KEYS.a);
    expect(res.status, await res.clone().text()).toBe(p.accepted);
    if (p.accepted === 202) expect(await res.json()).toEqual({ accepted: p.count });
    expect(t.publisher.published.map((b) => b.kind)).toEqual([p.kind]);
    expect(t.publisher.records(p.kind).map((r) => r.tenant)).toEqual(Array(p.count).fill(TEST_TENANTS.a));

    expect((await send(t, TEST_KEYS.b)).status).toBe(p.accepted);
    expect(t.publisher.published[1]!.records.map((r) => r.tenant)).toEqual(Array(p.count).fill(TEST_TENANTS.b));
  });

  it.each([
    ['no Authorization header', {}],
    ['an unknown key', { authorization: 'Bearer key-of-nobody' }],
    ['a known key sent as Basic credentials', { authorization: `Basic ${Buffer.from(`x:${TEST_KEYS.a}`).toString('base64')}` }],
  ])('refuses %s with 401 and sends nothing', async (_what, headers) => {
    const t = routeTestApp();
    await expectError(await send(t, undefined, headers), 401, 'unauthorized');
    expect(t.publisher.published).toEqual([]);
  });

  it('refuses a body one byte over the limit with 413 and sends nothing', async () => {
    const t = routeTestApp({ maxBodyBytes: p.body.length - 1 });
    const error = await expectError(await send(t, TEST_KEYS.a), 413, 'payload_too_large');
    expect(error.message).toContain(`${p.body.length - 1} bytes`);
    expect(t.publisher.published).toEqual([]);
    expect((await send(routeTestApp({ maxBodyBytes: p.body.length }), TEST_KEYS.a)).status).toBe(p.accepted);
  });

  it('refuses a tenant over its rate with 429 and Retry-After, sends nothing of it, and leaves other tenants alone', async () => {
    const t = routeTestApp({ tenantRate: p.count });
    expect((await send(t, TEST_KEYS.a)).status).toBe(p.accepted);
    const res = await send(t, TEST_KEYS.a);
    expect(res.headers.get('retry-after')).toBe('1');
    await expectError(res, 429, 'rate_limited');
    expect(t.publisher.published).toHaveLength(1);
    expect((await send(t, TEST_KEYS.b)).status).toBe(p.accepted);
  });

  it('answers 503 with Retry-After while Kafka does not acknowledge, and accepts the same request once it does', async () => {
    // At a rate that admits the request once a second: the attempt that got the 503 must not have used it up.
    const t = routeTestApp({ tenantRate: p.count });
    t.publisher.setDown(true);
    const res = await send(t, TEST_KEYS.a);
    expect(res.headers.get('retry-after')).toBe(String(KAFKA_DOWN_RETRY_AFTER));
    await expectError(res, 503, 'unavailable');
    expect(t.publisher.published).toEqual([]);
    t.publisher.setDown(false);
    expect((await send(t, TEST_KEYS.a)).status).toBe(p.accepted);
  });
});

describe('the request id of an error', () => {
  it("is the caller's X-Request-Id when it sent one, so its logs and ours can be joined", async () => {
    const t = routeTestApp();
    const res = await t.anonymous('POST', '/v1/metrics', [metricItem()], { 'x-request-id': 'trace-from-the-caller-42' });
    expect((await expectError(res, 401, 'unauthorized')).request_id).toBe('trace-from-the-caller-42');
  });

  it('is a new one per request otherwise', async () => {
    const t = routeTestApp();
    const ids = await Promise.all(
      [1, 2].map(async () => (await expectError(await t.anonymous('POST', '/v1/logs', [logItem()]), 401, 'unauthorized')).request_id),
    );
    expect(ids[0]).not.toBe(ids[1]);
  });
});
