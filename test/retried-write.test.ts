import { setTimeout as sleep } from 'node:timers/promises';
import snappy from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protoType } from '../gateway/protocols/protobuf.ts';
import { sortKeys } from '../lib/labels.ts';
import { partitionOf, TOPICS } from '../schemas/topics.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Issue 9, finding 3: a remote-write request answered 503 after it was
 * written is sent again by Prometheus, and every copy got new Kafka offsets:
 * rows keyed by offset counted each copy (240,000 rows kept by FINAL for
 * 80,000 samples), rollup windows counted them again, and the detector judged
 * them again. Here tenant a sends a request once and tenant b sends the same
 * request three times: every figure must be the same for both. On offset-
 * keyed code b has three times a's rows, windows whose count and sum are
 * tripled, and anomalies for each copy of the spike.
 */
const WriteRequest = protoType('prometheus-remote-write-1.proto', 'prometheus.WriteRequest');
const V1 = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };
const WINDOW = 60_000;

describe('a retried remote-write request', () => {
  let p: TestPipeline;
  // Window W stays open through the retried request: history ends at W+25 s, the request holds W+30…W+45 s.
  const W = Math.floor((Date.now() - 10 * WINDOW) / WINDOW) * WINDOW;
  const INSTANCES = ['a', 'b', 'c'];

  const body = (samples: (instance: string) => { value: number; timestamp: number }[]) =>
    snappy.compressSync(
      WriteRequest.encode(
        WriteRequest.fromObject({
          timeseries: INSTANCES.map((instance) => ({
            labels: [
              { name: '__name__', value: 'http_request_duration_seconds' },
              { name: 'instance', value: instance },
              { name: 'job', value: 'checkout' },
            ],
            samples: samples(instance),
          })),
        }),
      ).finish(),
    );
  const write = (key: string, b: Buffer) =>
    p.app.request('/api/v1/write', { method: 'POST', body: new Uint8Array(b), headers: { ...V1, authorization: `Bearer ${key}` } });

  // Steady history with a little noise, one request per window as a scraper sends it, then the
  // request that gets retried: a latency spike.
  const historyAt = Array.from({ length: 120 }, (_, i) => W + 25_000 - (119 - i) * 5000);
  const history = [...new Set(historyAt.map((t) => Math.floor(t / WINDOW) * WINDOW))].map((start) =>
    body((instance) =>
      historyAt
        .map((timestamp, i) => ({ value: 0.2 + 0.01 * Math.sin(i + instance.charCodeAt(0)), timestamp }))
        .filter((s) => s.timestamp >= start && s.timestamp < start + WINDOW),
    ),
  );
  const spike = body(() => [0, 1, 2, 3].map((i) => ({ value: 3 + i, timestamp: W + 30_000 + i * 5000 })));

  beforeAll(async () => {
    p = await startTestPipeline('retried', { processors: ['sink', 'rollup', 'detect'] });
  });
  afterAll(async () => p?.stop());

  /** A later point on every metrics partition of a tenant, so that window W closes everywhere. */
  const flush = (tenant: string, key: string) => {
    const partitions = p.config.topicPartitions;
    const points = new Map<number, object>();
    for (let i = 0; points.size < partitions; i++) {
      const labels = sortKeys({ service: 'flush', instance: `f${i}` });
      const partition = partitionOf(TOPICS.metrics.key({ tenant, metric_name: 'flush', labels } as never), partitions);
      if (!points.has(partition)) points.set(partition, { timestamp: W + 5 * WINDOW, metric_name: 'flush', value: 0, labels });
    }
    return p.post('/v1/metrics', [...points.values()], key);
  };

  const figures = async (tenant: string) => {
    const q = <T>(sql: string) => p.rows<T>(sql, { t: tenant, w: W });
    // Rounded: a float sum depends on the order ClickHouse adds the rows in.
    const [points] = await q<{ n: string; sum: number }>(
      `SELECT count() AS n, round(sum(value), 6) AS sum FROM metric_points FINAL WHERE tenant = {t:String} AND service = 'checkout'`,
    );
    const windows = await q<{ instance: string; window_start: string; count: string; sum: number; p99: number }>(
      `SELECT labels['instance'] AS instance, toString(window_start) AS window_start, count, round(sum, 6) AS sum, round(p99, 6) AS p99
       FROM metric_rollups FINAL WHERE tenant = {t:String} AND service = 'checkout' ORDER BY instance, window_start`,
    );
    const [anomalies] = await q<{ n: string; ids: string }>(
      `SELECT count() AS n, uniqExact(anomaly_id) AS ids FROM anomalies FINAL WHERE tenant = {t:String} AND service = 'checkout'`,
    );
    return { points: Number(points!.n), sum: points!.sum, windows, anomalies: Number(anomalies!.n) };
  };

  it('leaves the same rows, rollups and anomalies as one copy', async () => {
    // Tenants alternate: they may share a partition, and its watermark, which a's whole history would pass.
    for (const minute of history) for (const key of [p.keys.a, p.keys.b]) expect((await write(key, minute)).status).toBe(204);
    expect((await write(p.keys.a, spike)).status).toBe(204);
    for (let i = 0; i < 3; i++) expect((await write(p.keys.b, spike)).status).toBe(204);
    for (const [tenant, key] of [
      [p.tenants.a, p.keys.a],
      [p.tenants.b, p.keys.b],
    ] as const)
      expect((await flush(tenant, key)).status).toBe(202);

    // Window W closes only with the flush, sent after every copy: once it is in the table, every copy was read.
    const windowW = (f: Awaited<ReturnType<typeof figures>>) => f.windows.filter((w) => Date.parse(`${w.window_start}Z`) === W);
    const ready = (f: Awaited<ReturnType<typeof figures>>) => f.points === 3 * 124 && windowW(f).length === 3 && f.anomalies > 0;
    // Anomalies reach ClickHouse through detect, Kafka and the sink: wait until both tenants' figures are complete and alike.
    const both = async () => [await figures(p.tenants.a), await figures(p.tenants.b)] as const;
    const alike = ([a, b]: Awaited<ReturnType<typeof both>>) => ready(a) && ready(b) && JSON.stringify(a) === JSON.stringify(b);
    await eventually(both, alike, 120_000);
    await sleep(2000); // …and still alike once anything in flight has landed
    const [a, b] = await both();
    expect(windowW(a).map((w) => Number(w.count))).toEqual([10, 10, 10]); // 6 samples of the history, 4 of the spike
    expect(b).toEqual(a);
  }, 180_000); // on a loaded machine the waits above, each with its own deadline, can outlast vitest's default 60 s
});
