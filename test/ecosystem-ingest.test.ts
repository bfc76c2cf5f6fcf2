import snappy from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protoType } from '../gateway/protocols/protobuf.ts';
import { TOPICS } from '../schemas/topics.ts';
import { eventually, startTestPipeline, topicEnd, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Remote-write (1.0 and 2.0), Loki push and Alertmanager payloads through the
 * gateway into ClickHouse, and every way a body can be wrong: a clear 4xx,
 * never a 5xx, and not one record on Kafka (the topics' end offsets do not move).
 */
const WriteRequest = protoType('prometheus-remote-write-1.proto', 'prometheus.WriteRequest');
const RequestV2 = protoType('prometheus-remote-write-2.proto', 'io.prometheus.write.v2.Request');
const PushRequest = protoType('loki-push.proto', 'logproto.PushRequest');
const STALE = new Float64Array(new Uint32Array([0x00000002, 0x7ff00000]).buffer)[0]!;
const V1 = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };
const V2 = {
  'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '2.0.0',
};
const encode = (type: typeof WriteRequest, message: object) => snappy.compressSync(type.encode(type.fromObject(message)).finish());

describe('ecosystem ingest through the gateway', () => {
  let p: TestPipeline;
  const now = Date.now();
  const send = (path: string, body: Uint8Array | string, headers: Record<string, string>, key: string | null = p.keys.a) =>
    p.app.request(path, {
      method: 'POST',
      body: typeof body === 'string' ? body : Buffer.from(body),
      headers: { ...headers, ...(key ? { authorization: `Bearer ${key}` } : {}) },
    });
  const count = async (table: string, where = '1') =>
    Number((await p.rows<{ n: string }>(`SELECT count() AS n FROM ${table} FINAL WHERE tenant = {t:String} AND ${where}`, { t: p.tenants.a }))[0]!.n);

  beforeAll(async () => {
    // The /metrics test below reads per-tenant counters: named there only when asked for.
    p = await startTestPipeline('ecosystem', { processors: ['sink'], env: { AUTOPILOT_METRICS_TENANT_LABELS: 'true' } });
  });
  afterAll(async () => p?.stop());

  it('takes remote-write 1.0: samples become points, staleness markers are kept apart', async () => {
    const body = encode(WriteRequest, {
      timeseries: [
        {
          labels: [
            { name: '__name__', value: 'http_requests_total' },
            { name: 'job', value: 'api' },
            { name: 'code', value: '200' },
          ],
          samples: [
            { value: 10, timestamp: now - 2000 },
            { value: 12, timestamp: now - 1000 },
          ],
        },
        {
          labels: [
            { name: '__name__', value: 'queue_depth' },
            { name: 'service', value: 'worker' },
            { name: 'job', value: 'k8s' },
          ],
          samples: [
            { value: 3, timestamp: now - 1000 },
            { value: STALE, timestamp: now },
          ],
        },
      ],
    });
    const res = await send('/api/v1/write', body, V1);
    expect(res.status).toBe(204);
    await eventually(
      () => count('metric_points'),
      (n) => n === 3,
    );
    const [point] = await p.rows<{ labels: Record<string, string>; service: string }>(
      `SELECT labels, service FROM metric_points WHERE tenant = {t:String} AND metric_name = 'http_requests_total' LIMIT 1`,
      { t: p.tenants.a },
    );
    expect(point).toMatchObject({ service: 'api', labels: { code: '200', job: 'api', service: 'api' } });
    expect(await count('metric_points', `metric_name = 'queue_depth'`)).toBe(1); // the stale marker is not a value
    await eventually(
      () => count('metric_stale_markers', `metric_name = 'queue_depth' AND service = 'worker'`),
      (n) => n === 1,
    );
  });

  it('takes remote-write 2.0 with its symbol table and says how much it wrote', async () => {
    const symbols = ['', '__name__', 'rpc_duration_seconds', 'job', 'billing', 'method', 'charge', 'latency_hist'];
    const body = encode(RequestV2, {
      symbols,
      timeseries: [
        {
          labels_refs: [1, 2, 3, 4, 5, 6],
          samples: [{ value: 0.25, timestamp: now - 500 }],
          exemplars: [{ labels_refs: [], value: 0.3, timestamp: now - 500 }],
        },
        { labels_refs: [1, 7, 3, 4], histograms: [{ count_int: 5, sum: 2.5, schema: 0, zero_threshold: 0, zero_count_int: 5, timestamp: now - 500 }] },
      ],
    });
    const res = await send('/api/v1/write', body, V2);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('1');
    expect(res.headers.get('x-prometheus-remote-write-histograms-written')).toBe('1');
    expect(res.headers.get('x-prometheus-remote-write-exemplars-written')).toBe('1');
    await eventually(
      () => count('metric_points', `service = 'billing'`),
      (n) => n === 3,
    );
    const names = (
      await p.rows<{ metric_name: string }>(`SELECT metric_name FROM metric_points WHERE tenant = {t:String} AND service = 'billing' ORDER BY metric_name`, {
        t: p.tenants.a,
      })
    ).map((r) => r.metric_name);
    expect(names).toEqual(['latency_hist_count', 'latency_hist_sum', 'rpc_duration_seconds']);
  });

  it('writes the valid part of a partial write, then answers 400 so Prometheus does not resend it', async () => {
    const body = encode(WriteRequest, {
      timeseries: [
        {
          labels: [
            { name: '__name__', value: 'partial_ok' },
            { name: 'job', value: 'p' },
          ],
          samples: [{ value: 1, timestamp: now }],
        },
        {
          labels: [
            { name: '__name__', value: 'partial_old' },
            { name: 'job', value: 'p' },
          ],
          samples: [{ value: 1, timestamp: now - 40 * 24 * 3600_000 }],
        },
      ],
    });
    const res = await send('/api/v1/write', body, V1);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; message: string } }).error.message).toContain('1 of 2');
    await eventually(
      () => count('metric_points', `metric_name = 'partial_ok'`),
      (n) => n === 1,
    );
    expect(await count('metric_points', `metric_name = 'partial_old'`)).toBe(0);
  });

  it('takes Loki pushes as JSON and as snappy protobuf, service and level from the stream labels', async () => {
    const ns = (ms: number) => `${ms}000000`;
    const json = await send(
      '/loki/api/v1/push',
      JSON.stringify({ streams: [{ stream: { service_name: 'cart', level: 'error', pod: 'cart-1' }, values: [[ns(now - 100), 'cart failed: timeout']] }] }),
      { 'content-type': 'application/json' },
    );
    expect(json.status).toBe(204);
    const proto = encode(PushRequest, {
      streams: [
        {
          labels: '{app="cart", level="warn", pod="cart-2"}',
          entries: [{ timestamp: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 }, line: 'cart slow' }],
        },
      ],
    });
    expect((await send('/loki/api/v1/push', proto, { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' })).status).toBe(204);
    const rows = await eventually(
      () =>
        p.rows<{ level: string; message: string; labels: Record<string, string> }>(
          `SELECT level, message, labels FROM log_entries FINAL WHERE tenant = {t:String} AND service = 'cart' ORDER BY timestamp`,
          { t: p.tenants.a },
        ),
      (r) => r.length === 2,
    );
    expect(rows.map((r) => [r.level, r.message])).toEqual([
      ['error', 'cart failed: timeout'],
      ['warn', 'cart slow'],
    ]);
    expect(rows[0]!.labels.pod).toBe('cart-1');
  });

  it('refuses every malformed body with a 4xx and writes nothing', async () => {
    const topics = [TOPICS.metricBatches.topic, TOPICS.logBatches.topic, TOPICS.alerts.topic, TOPICS.staleMarkers.topic];
    const before = await Promise.all(topics.map((t) => topicEnd(p.services.kafka, t)));
    const good = encode(WriteRequest, { timeseries: [{ labels: [{ name: '__name__', value: 'x' }], samples: [{ value: 1, timestamp: now }] }] });
    const cases: [string, string, Uint8Array | string, Record<string, string>, number, string | null][] = [
      ['malformed snappy', '/api/v1/write', Buffer.from('definitely not snappy'), V1, 400, p.keys.a],
      ['malformed protobuf', '/api/v1/write', snappy.compressSync(Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02])), V1, 400, p.keys.a],
      ['wrong content type', '/api/v1/write', good, { ...V1, 'content-type': 'application/json' }, 415, p.keys.a],
      ['unknown proto', '/api/v1/write', good, { ...V1, 'content-type': 'application/x-protobuf;proto=foo.Bar' }, 415, p.keys.a],
      ['missing encoding', '/api/v1/write', good, { 'content-type': 'application/x-protobuf' }, 400, p.keys.a],
      ['empty body', '/api/v1/write', '', V1, 400, p.keys.a],
      ['no key', '/api/v1/write', good, V1, 401, null],
      ['loki malformed json', '/loki/api/v1/push', '{"streams": [', { 'content-type': 'application/json' }, 400, p.keys.a],
      [
        'loki bad labels',
        '/loki/api/v1/push',
        JSON.stringify({ streams: [{ stream: 'nope', values: [] }] }),
        { 'content-type': 'application/json' },
        400,
        p.keys.a,
      ],
      [
        'loki malformed protobuf',
        '/loki/api/v1/push',
        snappy.compressSync(Buffer.from([0x0a, 0xff, 0xff])),
        { 'content-type': 'application/x-protobuf' },
        400,
        p.keys.a,
      ],
      ['loki empty', '/loki/api/v1/push', '', { 'content-type': 'application/json' }, 400, p.keys.a],
      ['alertmanager not v4', '/v1/alertmanager', JSON.stringify({ version: '3', alerts: [] }), { 'content-type': 'application/json' }, 400, p.keys.a],
      ['alertmanager no alerts field', '/v1/alertmanager', JSON.stringify({ version: '4' }), { 'content-type': 'application/json' }, 400, p.keys.a],
    ];
    for (const [what, path, body, headers, status, key] of cases) {
      const res = await send(path, body, headers, key);
      expect(res.status, what).toBe(status);
      const error = ((await res.json()) as { error: { code: string; message: string; request_id: string } }).error;
      expect(error.message.length, what).toBeGreaterThan(5);
      expect(error.request_id, what).toBeTruthy();
    }
    expect(await Promise.all(topics.map((t) => topicEnd(p.services.kafka, t)))).toEqual(before);
  });

  it('counts what it received, wrote and refused by protocol on /metrics', async () => {
    const text = await (await p.app.request('/metrics')).text();
    expect(text).toMatch(/autopilot_gateway_records_accepted_total\{protocol="remote_write",kind="metrics",tenant="[^"]+"[^}]*\} [1-9]/);
    expect(text).toMatch(/autopilot_gateway_records_accepted_total\{protocol="loki",kind="logs"[^}]*\} 2/);
    expect(text).toMatch(/autopilot_gateway_requests_refused_total\{protocol="remote_write",code="unsupported_media_type"[^}]*\} 2/);
  });
});
