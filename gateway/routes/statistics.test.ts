import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.ts';
import { createClickHouse, type ClickHouseClient } from '../../sql/client.ts';
import { migrate } from '../../sql/migrate.ts';
import { client, expectError, TEST_KEYS, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { stubPublisher } from '../../test/helpers/publisher-stub.ts';
import { createApp } from '../app.ts';
import { TenantRateLimiter } from '../middleware/rate-limit.ts';
import { openApiDocument } from '../openapi.ts';
import { gatewayTelemetry } from '../telemetry.ts';

/**
 * GET /v1/statistics/overview and /trends through the app, on the embedded
 * ClickHouse with rows written here relative to now: what the caller's key
 * names and nothing of the other tenant's, the window and interval as asked,
 * refusals with the one error shape, and every status answered documented.
 * The SQL's figures are checked in detail in sql/stores/statistics.test.ts.
 * Before this change every request here was a 404 (no route).
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const SELF = 'autopilot-self';
const NOW = Math.floor(Date.now() / 1000) * 1000;

/** The gateway app as server.ts builds it, with self-monitoring's tenant set or not. */
function appWith(ch: ClickHouseClient | undefined, selfTenant?: string) {
  const registry = new Registry();
  return createApp({
    config: {
      apiKeys: new Map([
        [TEST_KEYS.a, TEST_TENANTS.a],
        [TEST_KEYS.b, TEST_TENANTS.b],
      ]),
      adminKey: undefined,
      maxBodyBytes: 64 * 1024,
      maxBatch: 1000,
      clickhouseUrl: undefined,
      selfMonitor: selfTenant ? { tenant: selfTenant, intervalMs: 15_000 } : undefined,
    },
    publisher: stubPublisher(),
    limiter: new TenantRateLimiter(0),
    telemetry: gatewayTelemetry(registry),
    registry,
    checks: [],
    clickhouse: ch,
    log: createLogger('test-statistics', 'silent'),
  });
}

let ch: ClickHouseClient;
let a: ReturnType<typeof client>;
let b: ReturnType<typeof client>;
let noSelf: ReturnType<typeof client>;

beforeAll(async () => {
  ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-statistics-routes-')) });
  await migrate(ch);
  const app = appWith(ch, SELF);
  a = client(app, TEST_KEYS.a);
  b = client(app, TEST_KEYS.b);
  noSelf = client(appWith(ch), TEST_KEYS.a);

  let offset = 0;
  const sample = (tenant: string, at: number, labels: Record<string, string> = { service: 'api' }, metric = 'latency_ms', value = 1) => ({
    tenant,
    service: labels.service,
    metric_name: metric,
    labels,
    timestamp: at,
    value,
    kafka_partition: 0,
    kafka_offset: offset++,
  });
  const accepted = (forTenant: string, at: number, value: number) =>
    sample(
      SELF,
      at,
      { instance: 'h:1', kind: 'metrics', protocol: 'remote_write', service: 'autopilot', tenant: forTenant },
      'autopilot_gateway_records_accepted_total',
      value,
    );
  await ch.insert({
    table: 'metric_points',
    format: 'JSONEachRow',
    values: [
      // A: three samples in the last 30 min, one 2 h back (inside 24 h, outside 1 h), one 30 h back (outside both).
      sample(TEST_TENANTS.a, NOW - 30 * MIN),
      sample(TEST_TENANTS.a, NOW - 20 * MIN),
      sample(TEST_TENANTS.a, NOW - 10 * MIN),
      sample(TEST_TENANTS.a, NOW - 2 * HOUR),
      sample(TEST_TENANTS.a, NOW - 30 * HOUR),
      sample(TEST_TENANTS.b, NOW - 10 * MIN),
      // A's remote-write counter on a gateway started 25 min ago: 10 then 70, so 70 records in the window.
      accepted(TEST_TENANTS.a, NOW - 25 * MIN, 10),
      accepted(TEST_TENANTS.a, NOW - 15 * MIN, 70),
    ],
  });
  // A's incident opened 40 min ago, resolved 30 min ago (10 min = 600 s); B's opened 20 min ago, open.
  const incident = (tenant: string, id: string, opened: number, resolved: number | null) => ({
    incident_id: id,
    tenant,
    service: 'api',
    version: 1,
    status: resolved === null ? 'open' : 'resolved',
    severity: 'high',
    opened_at: opened,
    updated_at: resolved ?? opened,
    resolved_at: resolved,
    signals: '[]',
    signal_count: 2,
  });
  await ch.insert({
    table: 'incidents',
    format: 'JSONEachRow',
    values: [incident(TEST_TENANTS.a, 'ia', NOW - 40 * MIN, NOW - 30 * MIN), incident(TEST_TENANTS.b, 'ib', NOW - 20 * MIN, null)],
  });
  await ch.insert({
    table: 'assistant_messages',
    format: 'JSONEachRow',
    values: [
      {
        tenant: TEST_TENANTS.a,
        session_id: 's',
        message_id: 'm',
        seq: 1,
        role: 'assistant',
        source: 'rules',
        tool_calls: 2,
        duration_ms: 40,
        created_at: NOW - 5 * MIN,
      },
    ],
  });
});
afterAll(async () => ch?.close());

const json = async (res: Response) => {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text);
};

describe('GET /v1/statistics/overview', () => {
  it("the caller's tenant over the last 24 h by default", async () => {
    const o = await json(await a('GET', '/v1/statistics/overview'));
    expect(o.window).toBe('24h');
    expect(o.to - o.from).toBe(24 * HOUR);
    expect(o.to).toBeGreaterThanOrEqual(NOW);
    expect(o.ingest.rows.metric_samples).toBe(4); // −30, −20, −10 min, −2 h
    expect(o.ingest.by_protocol.records).toEqual({ remote_write: 70 }); // 10 (first seen inside the window) + 60
    expect(o.series.active).toBe(1);
    expect(o.incidents).toMatchObject({ open: 0, opened: 1, resolved: 1, mttr_s: 600 });
    expect(o.assistant).toMatchObject({ answers: 1, sessions: 1, by_source: { llm: 0, rules: 1, needs_model: 0 }, tool_calls: 2 });
    expect(o.assistant.latency_ms).toEqual({ mean: 40, p50: 40, p95: 40, p99: 40 });
  });

  it('another key sees its own tenant alone', async () => {
    const o = await json(await b('GET', '/v1/statistics/overview'));
    expect(o.ingest.rows.metric_samples).toBe(1);
    expect(o.ingest.by_protocol.records).toEqual({});
    expect(o.incidents).toMatchObject({ open: 1, opened: 1, resolved: 0, mttr_s: null });
    expect(o.assistant).toMatchObject({ answers: 0, latency_ms: null });
  });

  it('the window as asked', async () => {
    const o = await json(await a('GET', '/v1/statistics/overview?window=1h'));
    expect(o.window).toBe('1h');
    expect(o.ingest.rows.metric_samples).toBe(3); // the sample 2 h back is out
    expect(o.ingest.rows_per_second.metric_samples).toBeCloseTo(3 / 3600, 12);
  });

  it('without self-monitoring, no protocol figures', async () => {
    expect((await json(await noSelf('GET', '/v1/statistics/overview'))).ingest.by_protocol).toBeNull();
  });
});

describe('GET /v1/statistics/trends', () => {
  it('a point per interval, on multiples of it, the last one in progress', async () => {
    const t = await json(await a('GET', '/v1/statistics/trends?metric=ingest_rows&window=6h&interval=1h'));
    expect(t).toMatchObject({ metric: 'ingest_rows', unit: 'rows', window: '6h', interval: '1h' });
    expect(t.from % HOUR).toBe(0);
    expect(t.points.length).toBe(Math.ceil((t.to - t.from) / HOUR));
    expect(t.points.map((p: { start: number }) => p.start)).toEqual(t.points.map((_: unknown, i: number) => t.from + i * HOUR));
    expect(t.points.reduce((s: number, p: { groups: { metric_samples: number } }) => s + p.groups.metric_samples, 0)).toBe(4);
  });

  it('every metric of the enum answers', async () => {
    const doc = openApiDocument() as { paths: Record<string, { get: { parameters: { name: string; schema: { enum?: string[] } }[] } }> };
    const metrics = doc.paths['/v1/statistics/trends']!.get.parameters.find((p) => p.name === 'metric')!.schema.enum!;
    expect(metrics).toContain('mttr');
    for (const metric of metrics) expect((await a('GET', `/v1/statistics/trends?metric=${metric}&window=2h&interval=30m`)).status, metric).toBe(200);
  });

  it('MTTR for the tenant alone', async () => {
    const points = (await json(await a('GET', '/v1/statistics/trends?metric=mttr&window=2h&interval=2h'))).points as { value: number | null }[];
    expect(points.map((p) => p.value).filter((v) => v !== null)).toEqual([600]);
    const theirs = (await json(await b('GET', '/v1/statistics/trends?metric=mttr&window=2h&interval=2h'))).points as { value: number | null }[];
    expect(theirs.every((p) => p.value === null)).toBe(true);
  });
});

describe('refusals, each documented', () => {
  const doc = openApiDocument() as { paths: Record<string, { get: { responses: Record<string, unknown> } }> };
  const cases: [string, string, number, string, 'a' | 'noSelf' | 'anonymous' | 'noClickHouse'][] = [
    ['a window that is no duration', '/v1/statistics/overview?window=banana', 400, 'bad_request', 'a'],
    ['a window over 31 days', '/v1/statistics/overview?window=40d', 400, 'bad_request', 'a'],
    ['an unknown parameter', '/v1/statistics/overview?tenant=tenant-b', 400, 'bad_request', 'a'],
    ['no metric', '/v1/statistics/trends', 400, 'bad_request', 'a'],
    ['an unknown metric', '/v1/statistics/trends?metric=cpu', 400, 'bad_request', 'a'],
    ['too many buckets (31d by the minute)', '/v1/statistics/trends?metric=analyses&window=31d&interval=1m', 400, 'bad_request', 'a'],
    ['an interval under a minute', '/v1/statistics/trends?metric=analyses&interval=10s', 400, 'bad_request', 'a'],
    ['protocols without self-monitoring', '/v1/statistics/trends?metric=ingest_protocols', 404, 'not_found', 'noSelf'],
    ['no key', '/v1/statistics/overview', 401, 'unauthorized', 'anonymous'],
    ['no ClickHouse in this process', '/v1/statistics/overview', 503, 'unavailable', 'noClickHouse'],
  ];
  it.each(cases)('%s: %s is %i', async (_what, url, status, code, who) => {
    const send =
      who === 'a' ? a : who === 'noSelf' ? noSelf : who === 'anonymous' ? client(appWith(ch, SELF), undefined) : client(appWith(undefined, SELF), TEST_KEYS.a);
    await expectError(await send('GET', url), status, code);
    const template = url.split('?')[0]!;
    expect(Object.keys(doc.paths[template]!.get.responses), `${template} documents ${status}`).toContain(String(status));
  });
});
