import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '../../sql/client.ts';
import { insertDeployments, insertIncidents, insertLogs, insertRollups, MIN, openClickHouse } from '../../test/helpers/assistant-data.ts';
import { client, expectError, gatewayTestApp, TEST_KEYS, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { stubPublisher } from '../../test/helpers/publisher-stub.ts';
import { openApiDocument } from '../openapi.ts';

/**
 * GET /v1/services and /v1/services/{service}/series through the app, on
 * the embedded ClickHouse with rows written here relative to now: the
 * answer's shape and span as asked, the caller's tenant alone, refusals with
 * the one error shape, and every status answered documented. The figures
 * themselves are checked in sql/stores/services.test.ts. Before this change
 * every request here was a 404 (no route).
 */
const DAY = 24 * 60 * MIN;
const NOW = Date.now();
const minuteAgo = (n: number) => Math.floor(NOW / MIN) * MIN - n * MIN;
const DURATION = 'http_request_duration_ms';

function appWith(ch: ClickHouseClient | undefined) {
  return gatewayTestApp({ publisher: stubPublisher(), clickhouse: ch }).app;
}

let ch: ClickHouseClient;
let a: ReturnType<typeof client>;
let b: ReturnType<typeof client>;
let anonymous: ReturnType<typeof client>;
let noClickHouse: ReturnType<typeof client>;

beforeAll(async () => {
  ch = await openClickHouse('services-routes');
  const app = appWith(ch);
  a = client(app, TEST_KEYS.a);
  b = client(app, TEST_KEYS.b);
  anonymous = client(app, undefined);
  noClickHouse = client(appWith(undefined), TEST_KEYS.a);

  // A: checkout with latency 10 and 20 min ago and a deployment 15 min ago; payments with logs; search with an open incident.
  await insertRollups(ch, TEST_TENANTS.a, 'checkout', DURATION, [
    { start: minuteAgo(20), values: [100, 110, 120] },
    { start: minuteAgo(10), values: [200, 210] },
  ]);
  await insertRollups(ch, TEST_TENANTS.a, 'checkout', 'db_latency_ms', [{ start: minuteAgo(10), values: [1] }]);
  await insertDeployments(ch, TEST_TENANTS.a, [{ service: 'checkout', version: 'v2', at: minuteAgo(15) }]);
  await insertLogs(ch, TEST_TENANTS.a, [
    { service: 'payments', level: 'error', at: minuteAgo(5), message: 'boom' },
    { service: 'payments', level: 'info', at: minuteAgo(5) + 1, message: 'ok' },
  ]);
  await insertIncidents(ch, TEST_TENANTS.a, [{ id: 'i1', service: 'search', status: 'open', severity: 'high', opened_at: minuteAgo(30), signals: [] }]);
  // B: its own checkout, much slower.
  await insertRollups(ch, TEST_TENANTS.b, 'checkout', DURATION, [{ start: minuteAgo(10), values: [9000] }]);
  await insertRollups(ch, TEST_TENANTS.b, 'b-only', DURATION, [{ start: minuteAgo(10), values: [1] }]);
});
afterAll(async () => ch?.close());

const json = async (res: Response) => {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text);
};
const nonNull = (values: (number | null)[]) => values.filter((v) => v !== null);

describe('GET /v1/services', () => {
  it("the caller's services over the last hour by default, by the minute", async () => {
    const o = await json(await a('GET', '/v1/services'));
    expect(Object.keys(o)).toEqual(['from', 'to', 'step', 'services']);
    expect(o.step).toBe(MIN);
    expect(o.to - o.from).toBe(60 * MIN);
    expect(o.to).toBeGreaterThanOrEqual(NOW);
    expect(o.to - NOW).toBeLessThan(MIN + 5000);
    expect(o.services.map((s: { service: string }) => s.service)).toEqual(['search', 'checkout', 'payments']);
    const checkout = o.services[1];
    expect(Object.keys(checkout)).toEqual(['service', 'latency_metric', 'open_incidents', 'worst_open_severity', 'last_deployment', 'series']);
    expect(checkout).toMatchObject({
      latency_metric: DURATION,
      open_incidents: 0,
      worst_open_severity: null,
      last_deployment: { version: 'v2', status: 'succeeded', at: minuteAgo(15) },
    });
    expect(Object.keys(checkout.series)).toEqual(['t', 'p50', 'p95', 'p99', 'throughput', 'error_rate']);
    for (const values of Object.values(checkout.series) as unknown[][]) expect(values).toHaveLength(60);
    expect(checkout.series.t[0]).toBe(o.from);
    expect(nonNull(checkout.series.throughput)).toEqual([3 / 60, 2 / 60]);
    expect(o.services[0]).toMatchObject({ service: 'search', open_incidents: 1, worst_open_severity: 'high', latency_metric: null });
    expect(nonNull(o.services[2].series.error_rate)).toEqual([0.5]);
  });

  it('a day in 12-minute buckets, 120 of them', async () => {
    const o = await json(await a('GET', '/v1/services?minutes=1440'));
    expect(o.step).toBe(12 * MIN);
    expect(o.services[1].series.t).toHaveLength(120);
    // The two windows, 10 minutes apart, share a 12-minute bucket or not depending on the clock: their 5 samples are all there.
    const perBucket = nonNull(o.services[1].series.throughput).map((perSecond) => Math.round(perSecond * 12 * 60));
    expect(perBucket.reduce((sum, n) => sum + n, 0)).toBe(5);
    expect([[5], [3, 2]]).toContainEqual(perBucket);
  });

  it('filters by a substring of the name', async () => {
    const o = await json(await a('GET', '/v1/services?q=CHECK'));
    expect(o.services.map((s: { service: string }) => s.service)).toEqual(['checkout']);
  });

  it('another key sees its own tenant alone', async () => {
    const o = await json(await b('GET', '/v1/services'));
    expect(o.services.map((s: { service: string }) => s.service)).toEqual(['b-only', 'checkout']);
    expect(nonNull(o.services[1].series.p50)[0]).toBeGreaterThan(8000);
    expect(o.services[1].last_deployment).toBeNull();
  });
});

describe('GET /v1/services/{service}/series', () => {
  it('the series over [from, to), with the deployments in it', async () => {
    const from = minuteAgo(30) + 30_000;
    const to = minuteAgo(0);
    const s = await json(await a('GET', `/v1/services/checkout/series?from=${from}&to=${to}`));
    expect(Object.keys(s)).toEqual(['service', 'latency_metric', 'from', 'to', 'step', 'series', 'deployments']);
    expect(s).toMatchObject({ service: 'checkout', latency_metric: DURATION, from: minuteAgo(30), to, step: MIN });
    expect(s.series.t).toHaveLength(30);
    expect(nonNull(s.series.throughput)).toEqual([3 / 60, 2 / 60]);
    expect(s.deployments).toEqual([{ version: 'v2', status: 'succeeded', at: minuteAgo(15) }]);
  });

  it('of the metric asked for', async () => {
    const s = await json(await a('GET', `/v1/services/checkout/series?from=${minuteAgo(30)}&to=${minuteAgo(0)}&metric=db_latency_ms`));
    expect(s.latency_metric).toBe('db_latency_ms');
    expect(nonNull(s.series.throughput)).toEqual([1 / 60]);
  });

  it("a service with no data, or another tenant's, is every bucket null, not a 404", async () => {
    for (const service of ['nothing-here', 'b-only']) {
      const s = await json(await a('GET', `/v1/services/${service}/series?from=${minuteAgo(30)}&to=${minuteAgo(0)}`));
      expect(s).toMatchObject({ service, latency_metric: null, deployments: [] });
      expect(s.series.p99).toEqual(Array(30).fill(null));
    }
  });

  it('a week at most: 84-minute buckets', async () => {
    const s = await json(await a('GET', `/v1/services/checkout/series?from=${NOW - 7 * DAY}&to=${NOW}`));
    expect(s.step).toBe(84 * MIN);
    expect(s.series.t.length).toBeLessThanOrEqual(121);
  });
});

describe('refusals, each documented', () => {
  const doc = openApiDocument() as { paths: Record<string, { get: { responses: Record<string, unknown> } }> };
  const series = '/v1/services/{service}/series';
  const cases: [string, string, string, number, string, 'a' | 'anonymous' | 'noClickHouse'][] = [
    ['minutes under 5', '/v1/services?minutes=4', '/v1/services', 400, 'bad_request', 'a'],
    ['minutes over a day', '/v1/services?minutes=1441', '/v1/services', 400, 'bad_request', 'a'],
    ['minutes that are no number', '/v1/services?minutes=an-hour', '/v1/services', 400, 'bad_request', 'a'],
    ['an unknown parameter', '/v1/services?tenant=tenant-b', '/v1/services', 400, 'bad_request', 'a'],
    ['no key', '/v1/services', '/v1/services', 401, 'unauthorized', 'anonymous'],
    ['no ClickHouse', '/v1/services', '/v1/services', 503, 'unavailable', 'noClickHouse'],
    ['no from', `/v1/services/checkout/series?to=${NOW}`, series, 400, 'bad_request', 'a'],
    ['from after to', `/v1/services/checkout/series?from=${NOW}&to=${NOW - MIN}`, series, 400, 'bad_request', 'a'],
    ['from equal to to', `/v1/services/checkout/series?from=${NOW}&to=${NOW}`, series, 400, 'bad_request', 'a'],
    ['over 7 days', `/v1/services/checkout/series?from=${NOW - 7 * DAY - 1}&to=${NOW}`, series, 400, 'bad_request', 'a'],
    ['an ISO date', `/v1/services/checkout/series?from=2025-01-01&to=${NOW}`, series, 400, 'bad_request', 'a'],
    ['a service name over 256 characters', `/v1/services/${'x'.repeat(257)}/series?from=${NOW - MIN}&to=${NOW}`, series, 400, 'bad_request', 'a'],
    ['series without a key', `/v1/services/checkout/series?from=${NOW - MIN}&to=${NOW}`, series, 401, 'unauthorized', 'anonymous'],
    ['series without ClickHouse', `/v1/services/checkout/series?from=${NOW - MIN}&to=${NOW}`, series, 503, 'unavailable', 'noClickHouse'],
  ];

  it.each(cases)('%s: %s', async (_what, path, template, status, code, who) => {
    const send = { a, anonymous, noClickHouse }[who];
    await expectError(await send('GET', path), status, code);
    expect(Object.keys(doc.paths[template]!.get.responses)).toContain(String(status));
  });
});
