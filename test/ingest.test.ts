import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import { DEAD_LETTER_TOPIC, TOPICS } from '../schemas/topics.ts';
import { eventually, startTestPipeline, topicEnd, type TestPipeline } from './helpers/pipeline.ts';

/**
 * The ingest path end to end on the real stack: HTTP → zod → Avro → Kafka
 * (acks=all) → sink → ClickHouse. "Nothing written" is checked where it
 * matters, on Kafka: the topic's end offsets do not move.
 */
let p: TestPipeline;
const now = Date.now();

beforeAll(async () => {
  p = await startTestPipeline('ingest', { processors: ['sink'], env: { AUTOPILOT_MAX_BODY_BYTES: String(256 * 1024) } });
});
afterAll(async () => p?.stop());

const count = async (table: string, tenant: string) =>
  Number((await p.rows<{ c: string }>(`SELECT count() AS c FROM ${table} FINAL WHERE tenant = {t:String}`, { t: tenant }))[0]!.c);

describe('accepted batches land in ClickHouse exactly', () => {
  it('metrics: a batch of 500 points, values and labels intact', async () => {
    const points = Array.from({ length: 500 }, (_, i) => ({
      timestamp: now - 500_000 + i * 1000,
      metric_name: 'http_request_duration_ms',
      value: i * 1.25,
      labels: { zone: 'b', service: `svc-${i % 5}`, environment: 'prod' },
    }));
    const res = await p.post('/v1/metrics', points);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 500 });

    await eventually(
      () => count('metric_points', p.tenants.a),
      (c) => c === 500,
    );
    const [agg] = await p.rows<{ n: string; total: number; services: string; first: string; keys: string[] }>(
      `SELECT count() AS n, sum(value) AS total, uniqExact(service) AS services,
              toUnixTimestamp64Milli(min(timestamp)) AS first, mapKeys(any(labels)) AS keys
       FROM metric_points FINAL WHERE tenant = {t:String}`,
      { t: p.tenants.a },
    );
    expect(Number(agg!.n)).toBe(500);
    expect(agg!.total).toBeCloseTo(
      points.reduce((s, x) => s + x.value, 0),
      6,
    );
    expect(Number(agg!.services)).toBe(5);
    expect(Number(agg!.first)).toBe(now - 500_000);
    expect(agg!.keys).toEqual(['environment', 'service', 'zone']); // sorted before insert
  });

  it('logs: one object or an array, ISO or epoch timestamps, levels normalised', async () => {
    const iso = new Date(now - 3_600_000).toISOString();
    expect(
      (
        await p.post('/v1/logs', {
          timestamp: iso,
          level: 'ERROR',
          message: 'payment failed: card declined',
          service: 'checkout',
          labels: { pod: 'checkout-1' },
        })
      ).status,
    ).toBe(202);
    const batch = [
      { timestamp: now, level: 'warning', message: 'slow', service: 'checkout', labels: {} },
      { timestamp: now + 1, level: 'info', message: 'ok', service: 'cart' },
    ];
    expect((await p.post('/v1/logs', batch)).status).toBe(202);

    await eventually(
      () => count('log_entries', p.tenants.a),
      (c) => c === 3,
    );
    const rows = await p.rows<{ level: string; message: string; ts: string; service: string }>(
      `SELECT level, message, toUnixTimestamp64Milli(timestamp) AS ts, service FROM log_entries FINAL WHERE tenant = {t:String} ORDER BY timestamp`,
      { t: p.tenants.a },
    );
    expect(rows.map((r) => [r.level, r.service, Number(r.ts)])).toEqual([
      ['error', 'checkout', Date.parse(iso)],
      ['warn', 'checkout', now],
      ['info', 'cart', now + 1],
    ]);
  });

  it('deployments: metadata kept as a map', async () => {
    const res = await p.post('/v1/deployments', [
      { timestamp: now, service: 'checkout', version: 'v2.3.1', status: 'succeeded', metadata: { commit: 'abc123', deployed_by: 'ci', pr: 42 } },
      { timestamp: now + 5, service: 'cart', version: 'v1.0.0', status: 'started' },
    ]);
    expect(res.status).toBe(202);
    await eventually(
      () => count('deployments', p.tenants.a),
      (c) => c === 2,
    );
    const [row] = await p.rows<{ version: string; metadata: Record<string, string> }>(
      `SELECT version, metadata FROM deployments FINAL WHERE tenant = {t:String} AND service = 'checkout'`,
      { t: p.tenants.a },
    );
    expect(row).toEqual({ version: 'v2.3.1', metadata: { commit: 'abc123', deployed_by: 'ci', pr: '42' } });
  });

  it('keeps tenants apart: the key decides the tenant, not the body', async () => {
    const res = await p.post('/v1/metrics', { timestamp: now, metric_name: 'up', value: 1, labels: { service: 'svc-b' } }, p.keys.b);
    expect(res.status).toBe(202);
    await eventually(
      () => count('metric_points', p.tenants.b),
      (c) => c === 1,
    );
    expect(await count('metric_points', p.tenants.a)).toBe(500);
  });
});

describe('bad input gets a clear 4xx and writes nothing', () => {
  const good = (i: number) => ({ timestamp: now, metric_name: 'm', value: i, labels: { service: 's' } });
  const cases: Array<[string, string | unknown, number, string, ((body: any) => void)?]> = [
    ['malformed JSON', '{"timestamp": 1', 400, 'bad_request'],
    ['empty body', '', 400, 'bad_request'],
    ['empty batch', [], 400, 'bad_request'],
    ['NaN as a literal (not JSON)', '{"timestamp": 1767225600000, "metric_name": "m", "value": NaN, "labels": {"service": "s"}}', 400, 'bad_request'],
    [
      'Infinity through an overflowing number',
      `{"timestamp": ${now}, "metric_name": "m", "value": 1e999, "labels": {"service": "s"}}`,
      400,
      'invalid_records',
      (b) => expect(b.error.details[0]).toMatchObject({ index: 0, path: 'value' }),
    ],
    ['NaN as a string', { ...good(1), value: 'NaN' }, 400, 'invalid_records'],
    [
      'wrong types',
      { timestamp: 'yesterday', metric_name: 42, value: '1', labels: [] },
      400,
      'invalid_records',
      (b) => expect(b.error.details.map((d: any) => d.path).sort()).toEqual(['labels', 'metric_name', 'timestamp', 'value']),
    ],
    ['missing fields', { metric_name: 'm' }, 400, 'invalid_records'],
    [
      'missing labels.service',
      { ...good(1), labels: { env: 'prod' } },
      400,
      'invalid_records',
      (b) => expect(b.error.details[0].message).toContain('labels.service'),
    ],
    [
      'epoch seconds instead of milliseconds',
      { ...good(1), timestamp: Math.floor(now / 1000) },
      400,
      'invalid_records',
      (b) => expect(b.error.details[0].message).toContain('seconds'),
    ],
    [
      'older than the retention',
      { ...good(1), timestamp: new Date(now - 40 * 86_400_000).toISOString() },
      400,
      'invalid_records',
      (b) => expect(b.error.details[0].message).toContain('retention'),
    ],
    ['an unknown field', { ...good(1), valeu: 3 }, 400, 'invalid_records'],
    [
      'one bad item in a batch of 100',
      Array.from({ length: 100 }, (_, i) => (i === 37 ? { ...good(i), value: null } : good(i))),
      400,
      'invalid_records',
      (b) => {
        expect(b.error.message).toBe('1 of 100 items are invalid; nothing was written');
        expect(b.error.details).toEqual([expect.objectContaining({ index: 37, path: 'value' })]);
      },
    ],
    ['body over the limit', Array.from({ length: 4000 }, (_, i) => good(i)), 413, 'payload_too_large'],
  ];

  it.each(cases)('%s', async (_name, body, status, code, check) => {
    const before = await topicEnd(p.services.kafka, TOPICS.metricBatches.topic);
    const res = await p.post('/v1/metrics', body);
    expect(res.status).toBe(status);
    const json = (await res.json()) as any;
    expect(json.error.code).toBe(code);
    expect(json.error.message).toEqual(expect.any(String));
    expect(json.error.request_id).toBe(res.headers.get('x-request-id'));
    check?.(json);
    expect(await topicEnd(p.services.kafka, TOPICS.metricBatches.topic)).toBe(before);
  });

  it('a missing or unknown API key is 401, and the key never reaches the logs', async () => {
    const before = await topicEnd(p.services.kafka, TOPICS.logBatches.topic);
    const log = { timestamp: now, level: 'info', message: 'x', service: 's' };
    const missing = await p.post('/v1/logs', log, null);
    expect(missing.status).toBe(401);
    const wrong = await p.post('/v1/logs', log, 'not-a-key');
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).error.code).toBe('unauthorized');
    expect(await topicEnd(p.services.kafka, TOPICS.logBatches.topic)).toBe(before);
  });

  it('bad deployment status and log level name the allowed values', async () => {
    const dep = await p.post('/v1/deployments', { timestamp: now, service: 's', version: '1', status: 'done' });
    expect(dep.status).toBe(400);
    expect(JSON.stringify(await dep.json())).toContain('rolled_back');
    const log = await p.post('/v1/logs', { timestamp: now, level: 'loud', message: 'x', service: 's' });
    expect(log.status).toBe(400);
  });
});

describe('operations', () => {
  it('readiness names every dependency; metrics count requests by route and status', async () => {
    const ready = await p.app.request('/health/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      // …and every processor this process runs: one with a stalled partition turns it 503.
      checks: { kafka: { ok: true }, schema_registry: { ok: true }, redis: { ok: true }, clickhouse: { ok: true }, 'processor sink': { ok: true } },
    });
    expect((await p.app.request('/health/live')).status).toBe(200);
    const metrics = await (await p.app.request('/metrics')).text();
    expect(metrics).toMatch(/autopilot_gateway_requests_total\{route="\/v1\/metrics",method="POST",status="202",component="test-ingest"\} \d+/);
    expect(metrics).toMatch(/autopilot_gateway_records_produced_total\{kind="metrics",component="test-ingest"\} \d+/);
    expect(metrics).toContain('autopilot_gateway_produce_seconds_bucket');
    expect(metrics).toMatch(/autopilot_processor_written_total\{processor="sink",topic="autopilot.metric-batches",component="test-ingest"\} \d+/);
  });

  it('serves an OpenAPI document generated from the validators', async () => {
    const doc = (await (await p.app.request('/openapi.json')).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/metrics', '/v1/logs', '/v1/deployments']));
    expect(doc.components.schemas.metrics.required).toEqual(['timestamp', 'metric_name', 'value', 'labels']);
  });

  it('admin SQL is read-only and needs the admin key', async () => {
    const sql = (query: string, key: string | null) => p.post('/admin/sql', { query }, key);
    expect((await sql('SELECT 1', p.keys.a)).status).toBe(401);
    const ok = await sql('SELECT count() AS c FROM metric_points', p.adminKey);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).data[0].c).toEqual(expect.anything());
    const write = await sql("INSERT INTO deployments (tenant) VALUES ('x')", p.adminKey);
    expect(write.status).toBe(400);
    expect(((await write.json()) as any).error.message).toContain('readonly');
    expect((await sql('SELECT 1; DROP TABLE deployments', p.adminKey)).status).toBe(400);
    expect((await p.rows('EXISTS TABLE deployments'))[0]).toEqual({ result: 1 });
  });
});

describe('dead letters', () => {
  it('a record that cannot be decoded goes to the dead-letter topic with its reason; the sink carries on', async () => {
    const producer = p.services.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const key = `${p.tenants.a}\u0000poison`;
    await producer.send({ topic: TOPICS.logs.topic, acks: -1, messages: [{ key, value: Buffer.from('not avro at all') }] });
    await producer.disconnect();

    const consumer = p.services.kafka.consumer({ groupId: `dlq-reader-${p.tenants.a}` });
    const seen: Array<{ reason: string; value: string; source: string }> = [];
    await consumer.connect();
    await consumer.subscribe({ topic: DEAD_LETTER_TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() !== key) return;
        seen.push({
          reason: String(message.headers?.['autopilot-reason']),
          value: String(message.value),
          source: String(message.headers?.['autopilot-source-topic']),
        });
      },
    });
    await eventually(
      async () => seen.length,
      (n) => n === 1,
    );
    await consumer.disconnect();
    expect(seen[0]).toEqual({ reason: expect.stringContaining('not Confluent wire format'), value: 'not avro at all', source: TOPICS.logs.topic });

    const after = await p.post('/v1/logs', { timestamp: now, level: 'info', message: 'after poison', service: 'checkout' });
    expect(after.status).toBe(202);
    await eventually(
      () => count('log_entries', p.tenants.a),
      (c) => c === 4,
    );
  });
});

// The product brief's own DeploymentEvent example says "success"; before the spelling table it was a 400.
it('the brief\'s deployment example ("status": "success") is accepted and stored as succeeded', async () => {
  const res = await p.post('/v1/deployments', { timestamp: new Date(now).toISOString(), service: 'brief-example', version: 'v1.4.2', status: 'success' });
  expect(res.status).toBe(202);
  const rows = await eventually(
    () => p.rows<{ status: string }>(`SELECT status FROM deployments FINAL WHERE tenant = {t:String} AND service = 'brief-example'`, { t: p.tenants.a }),
    (r) => r.length === 1,
  );
  expect(rows).toEqual([{ status: 'succeeded' }]);
});
