import snappy from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protoType } from '../gateway/protocols/protobuf.ts';
import { complianceHistogram } from './helpers/native-histograms.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * The remote-write compliance cases Autopilot failed (issue 9), through the
 * gateway, Kafka, the sink and the rollup into embedded ClickHouse:
 * - a native histogram whose count (99) disagrees with its buckets (23) was
 *   stored and answered 204; now it is refused as a partial write;
 * - +Inf, −Inf and NaN were answered 204 with Samples-Written 3 and not
 *   stored (and had they reached the sink, JSON would have made them 0);
 * - UTF-8 metric names (Prometheus 3) were refused.
 */
const RequestV2 = protoType('prometheus-remote-write-2.proto', 'io.prometheus.write.v2.Request');
const V2 = {
  'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '2.0.0',
};
const WINDOW_MS = 10_000;

describe('Prometheus conformance through the pipeline', () => {
  let p: TestPipeline;
  const now = Date.now();
  const send = (message: object) =>
    p.app.request('/api/v1/write', {
      method: 'POST',
      body: Buffer.from(snappy.compressSync(RequestV2.encode(RequestV2.fromObject(message)).finish())),
      headers: { ...V2, authorization: `Bearer ${p.keys.a}` },
    });
  const rows = <T>(query: string) => p.rows<T>(query, { t: p.tenants.a });

  beforeAll(async () => {
    p = await startTestPipeline('promconf', { processors: ['sink', 'rollup'], env: { ROLLUP_WINDOW_MS: String(WINDOW_MS), ROLLUP_LATENESS_MS: '0' } });
  });
  afterAll(async () => p?.stop());

  it('refuses the histogram whose count disagrees with its buckets with a 400 naming it, and writes the rest of the request', async () => {
    const res = await send({
      symbols: ['', '__name__', 'minimal_hist', 'job', 'conformance', 'test_histogram', 'conformance_up'],
      timeseries: [
        { labels_refs: [1, 2, 3, 4], histograms: [complianceHistogram(1, { positive: true, badCount: true }, now)] },
        { labels_refs: [1, 5, 3, 4], histograms: [complianceHistogram(1, { positive: true, negative: true, zero: true }, now)] },
        { labels_refs: [1, 6, 3, 4], samples: [{ value: 1, timestamp: now }] },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('1');
    expect(res.headers.get('x-prometheus-remote-write-histograms-written')).toBe('1');
    const { error } = (await res.json()) as { error: { code: string; message: string; details: string[] } };
    expect(error.code).toBe('invalid_records');
    expect(error.details).toEqual([
      'minimal_hist{job="conformance"}: native histogram refused: count is 99 but the buckets hold 23 (zero 0, positive 23, negative 0): they must be equal',
    ]);

    const written = await eventually(
      () =>
        rows<{ metric_name: string; value: number }>(
          `SELECT metric_name, value FROM metric_points FINAL WHERE tenant = {t:String} AND service = 'conformance' ORDER BY metric_name`,
        ),
      (r) => r.length === 3,
    );
    expect(written).toEqual([
      { metric_name: 'conformance_up', value: 1 },
      { metric_name: 'test_histogram_count', value: 27 },
      { metric_name: 'test_histogram_sum', value: 1 },
    ]);
  });

  it('stores +Inf, −Inf and NaN as ClickHouse inf, -inf and nan, and keeps them out of the rollup', async () => {
    // Ahead of every other sample sent here: the rollup's watermark is per partition, and earlier windows would be late.
    const start = Math.floor(now / WINDOW_MS) * WINDOW_MS + 2 * WINDOW_MS;
    const samples = [1, Infinity, -Infinity, NaN, 3].map((value, i) => ({ value, timestamp: start + i * 1000 }));
    const res = await send({ symbols: ['', '__name__', 'edge_values', 'job', 'edges'], timeseries: [{ labels_refs: [1, 2, 3, 4], samples }] });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('5');

    // toString: JSON output would print all three as null (output_format_json_quote_denormals is off).
    const stored = await eventually(
      () =>
        rows<{ v: string }>(
          `SELECT toString(value) AS v FROM metric_points FINAL WHERE tenant = {t:String} AND metric_name = 'edge_values' ORDER BY timestamp`,
        ),
      (r) => r.length === 5,
    );
    expect(stored.map((r) => r.v)).toEqual(['1', 'inf', '-inf', 'nan', '3']);

    // A later sample of the same series (same partition) moves the watermark past the window and closes it.
    expect(
      (
        await send({
          symbols: ['', '__name__', 'edge_values', 'job', 'edges'],
          timeseries: [{ labels_refs: [1, 2, 3, 4], samples: [{ value: 5, timestamp: start + 3 * WINDOW_MS }] }],
        })
      ).status,
    ).toBe(204);
    const [window] = await eventually(
      () =>
        rows<{ count: number; min: number; max: number }>(
          `SELECT toFloat64(count) AS count, min, max FROM metric_rollups FINAL WHERE tenant = {t:String} AND metric_name = 'edge_values' AND toUnixTimestamp64Milli(window_start) = ${start}`,
        ),
      (r) => r.length === 1,
    );
    // Before the rollup skipped them, +Inf threw inside the DDSketch and the window never closed.
    expect(window).toEqual({ count: 2, min: 1, max: 3 });
  });

  it('stores UTF-8 metric and label names as sent, from remote-write and from JSON', async () => {
    const name = 'resource cpu usage';
    const res = await send({
      symbols: ['', '__name__', name, 'label name é', 'värde "1" \\ ok', 'service', 'utf8-svc'],
      timeseries: [{ labels_refs: [1, 2, 3, 4, 5, 6], samples: [{ value: 0.75, timestamp: now }] }],
    });
    expect(res.status).toBe(204);
    const json = await p.post('/v1/metrics', [
      { timestamp: now, metric_name: 'http.server.duration 🚀', value: 2, labels: { service: 'utf8-svc', 'zone name': 'eu west' } },
    ]);
    expect(json.status).toBe(202);

    const stored = await eventually(
      () =>
        rows<{ metric_name: string; labels: Record<string, string>; value: number }>(
          `SELECT metric_name, labels, value FROM metric_points FINAL WHERE tenant = {t:String} AND service = 'utf8-svc' ORDER BY metric_name`,
        ),
      (r) => r.length === 2,
    );
    expect(stored).toEqual([
      { metric_name: 'http.server.duration 🚀', labels: { service: 'utf8-svc', 'zone name': 'eu west' }, value: 2 },
      { metric_name: name, labels: { 'label name é': 'värde "1" \\ ok', service: 'utf8-svc' }, value: 0.75 },
    ]);
  });
});
