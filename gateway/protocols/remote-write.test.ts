import { readFileSync } from 'node:fs';
import snappy from 'snappy';
import { describe, expect, it } from 'vitest';
import { RETENTION_MS } from '../records.ts';
import { partialWriteError } from './partial-write.ts';
import { protoType } from './protobuf.ts';
import { seriesHash } from '../../schemas/metric-batch.ts';
import { decodeRemoteWrite, isStaleMarker, toMetricPoints, toMetricSeries, writtenHeaders } from './remote-write.ts';
import { complianceHistogram } from '../../test/helpers/native-histograms.ts';
import { thrownAutopilotError } from '../../test/helpers/thrown.ts';

const LIMITS = { maxDecodedBytes: 1 << 20 };
const V1 = { contentType: 'application/x-protobuf', contentEncoding: 'snappy' };
const V2 = { contentType: 'application/x-protobuf;proto=io.prometheus.write.v2.Request', contentEncoding: 'snappy' };
const WriteRequest = protoType('prometheus-remote-write-1.proto', 'prometheus.WriteRequest');
const RequestV2 = protoType('prometheus-remote-write-2.proto', 'io.prometheus.write.v2.Request');

const encode = (type: typeof WriteRequest, message: object) => snappy.compressSync(type.encode(type.fromObject(message)).finish());
const double = (hi: number, lo: number) => new Float64Array(new Uint32Array([lo, hi]).buffer)[0]!;
const STALE = double(0x7ff00000, 0x00000002);
const OTHER_NAN = double(0x7ff80000, 0x00000001);

const errorOf = thrownAutopilotError;

function fixture(name: string) {
  const dir = new URL('../../test/fixtures/remote-write/', import.meta.url);
  const headers = JSON.parse(readFileSync(new URL(`${name}.headers.json`, dir), 'utf8')) as Record<string, string>;
  const body = readFileSync(new URL(`${name}.bin`, dir));
  return decodeRemoteWrite(body, { contentType: headers['content-type'], contentEncoding: headers['content-encoding'] }, LIMITS);
}

const protobufVarint = (n: number) => {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  return [...out, n];
};

const sorted = (labels: Record<string, string>) => Object.keys(labels).join() === Object.keys(labels).sort().join();

describe('remote-write 1.0 from a real Prometheus 2.42', () => {
  const batch = fixture('prometheus-2.42-write');

  it('decodes the scrape of Prometheus by itself: up is 1 for job=prometheus, labels sorted and without __name__', () => {
    expect(batch.version).toBe('1.0');
    expect(batch.samples.length).toBeGreaterThan(100);
    const up = batch.samples.find((s) => s.metric_name === 'up');
    expect(up).toMatchObject({ value: 1, stale: false, labels: { job: 'prometheus' } });
    expect(Object.keys(up!.labels)).toEqual(['instance', 'job']);
    expect(up!.labels.instance).toMatch(/^127\.0\.0\.1:\d+$/);
    for (const s of batch.samples) {
      expect(sorted(s.labels)).toBe(true);
      expect(s.labels.__name__).toBeUndefined();
      expect(Number.isInteger(s.timestamp) && s.timestamp > Date.UTC(2020, 0, 1)).toBe(true);
    }
    expect(batch.samples.filter((s) => s.stale)).toEqual([]);
  });

  it('keeps the NaN quantiles of empty summaries as values, as Prometheus stores them', () => {
    // Before: counted as non-finite and dropped from the points (while Samples-Written counted them).
    const nan = batch.samples.filter((s) => Number.isNaN(s.value));
    expect(nan.length).toBeGreaterThan(0);
    const at = batch.samples[0]!.timestamp;
    const out = toMetricPoints('acme', batch, at);
    expect(out.points.length).toBe(batch.samples.length);
    expect(out.points.filter((p) => Number.isNaN(p.value)).length).toBe(nan.length);
    expect(partialWriteError('samples', out)).toBeUndefined();
  });

  it('maps to MetricPoints with service from job and labels still sorted', () => {
    const out = toMetricPoints('acme', batch, batch.samples[0]!.timestamp);
    const up = out.points.find((p) => p.metric_name === 'up')!;
    expect(up).toMatchObject({ tenant: 'acme', value: 1, labels: { job: 'prometheus', service: 'prometheus' } });
    expect(Object.keys(up.labels)).toEqual(['instance', 'job', 'service']);
    expect(out.points.every((p) => p.labels.service === 'prometheus' && sorted(p.labels))).toBe(true);
  });

  it('drops everything as outside the window 31 days later, counted and answered with a 400 that says so', () => {
    const out = toMetricPoints('acme', batch, batch.samples[0]!.timestamp + RETENTION_MS + 86_400_000);
    expect(out.points).toEqual([]);
    expect(out.outOfWindow).toBe(batch.samples.length);
    const err = partialWriteError('samples', out)!;
    expect(err.status).toBe(400);
    expect(err.message).toContain(`${batch.samples.length} of ${batch.samples.length} samples were not written`);
    expect(writtenHeaders(batch, out)['X-Prometheus-Remote-Write-Samples-Written']).toBe('0');
  });
});

describe('staleness markers from a real Prometheus 2.42 (its target left the job)', () => {
  const batch = fixture('prometheus-2.42-stale');
  const stale = batch.samples.filter((s) => s.stale);

  it('finds them by their NaN bits, and only them', () => {
    expect(stale.length).toBeGreaterThan(100);
    expect(stale.every((s) => Number.isNaN(s.value) && isStaleMarker(s.value))).toBe(true);
    expect(stale.some((s) => s.metric_name === 'up' && s.labels.job === 'prometheus')).toBe(true);
    // The replacement target nobody listens on: up is 0, a value, not a marker.
    expect(batch.samples.some((s) => s.metric_name === 'up' && s.value === 0 && !s.stale)).toBe(true);
  });

  it('sends markers to `stale` with value 0, never to points', () => {
    const out = toMetricPoints('acme', batch, stale[0]!.timestamp);
    expect(out.stale.length).toBe(stale.length);
    expect(out.stale.every((p) => p.value === 0 && p.labels.service === 'prometheus')).toBe(true);
    expect(out.points.length).toBe(batch.samples.length - stale.length);
    expect(out.points.every((p) => !isStaleMarker(p.value))).toBe(true);
  });
});

describe('remote-write 1.0 built here', () => {
  const now = Date.now();

  it('accepts a request with only metadata', () => {
    const body = encode(WriteRequest, { metadata: [{ type: 1, metric_family_name: 'http_requests_total', help: 'Requests.' }] });
    const batch = decodeRemoteWrite(body, V1, LIMITS);
    expect(batch).toMatchObject({ version: '1.0', samples: [], histograms: [], metadata: 1 });
  });

  it('reads a stale marker apart from other NaNs, sorts labels and drops empty and reserved ones', () => {
    const body = encode(WriteRequest, {
      timeseries: [
        {
          labels: [
            { name: 'zone', value: 'b' },
            { name: '__name__', value: 'queue_depth' },
            { name: 'job', value: 'worker' },
            { name: 'empty', value: '' },
            { name: '__tmp', value: 'x' },
          ],
          samples: [
            { value: 3, timestamp: now - 2000 },
            { value: STALE, timestamp: now - 1000 },
            { value: OTHER_NAN, timestamp: now },
          ],
          exemplars: [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 3, timestamp: now - 2000 }],
        },
      ],
    });
    const batch = decodeRemoteWrite(body, { ...V1, contentType: 'application/x-protobuf; proto=prometheus.WriteRequest' }, LIMITS);
    expect(batch.samples.map((s) => [s.timestamp, s.stale])).toEqual([
      [now - 2000, false],
      [now - 1000, true],
      [now, false],
    ]);
    expect(batch.samples[0]!.labels).toEqual({ job: 'worker', zone: 'b' });
    expect(Object.keys(batch.samples[0]!.labels)).toEqual(['job', 'zone']);
    expect(batch.exemplars).toBe(1);

    const out = toMetricPoints('acme', batch, now);
    const labels = { job: 'worker', service: 'worker', zone: 'b' };
    expect(out.points).toEqual([
      { tenant: 'acme', timestamp: now - 2000, metric_name: 'queue_depth', value: 3, labels },
      { tenant: 'acme', timestamp: now, metric_name: 'queue_depth', value: NaN, labels },
    ]);
    expect(out.stale).toEqual([{ ...out.points[0], timestamp: now - 1000, value: 0 }]);
  });

  it('turns native histograms into _count and _sum points; a stale one into two markers', () => {
    const body = encode(WriteRequest, {
      timeseries: [
        {
          labels: [
            { name: '__name__', value: 'rpc_seconds' },
            { name: 'service', value: 'api' },
          ],
          histograms: [
            { count_int: 12, sum: 3.5, schema: 3, positive_spans: [{ offset: 0, length: 2 }], positive_deltas: [5, 2], timestamp: now - 1000 },
            { count_float: 2.5, sum: STALE, timestamp: now },
          ],
        },
      ],
    });
    const batch = decodeRemoteWrite(body, V1, LIMITS);
    expect(batch.histograms.map((h) => [h.count, h.stale])).toEqual([
      [12, false],
      [2.5, true],
    ]);
    const out = toMetricPoints('acme', batch, now);
    expect(out.points.map((p) => [p.metric_name, p.value, p.labels])).toEqual([
      ['rpc_seconds_count', 12, { service: 'api' }],
      ['rpc_seconds_sum', 3.5, { service: 'api' }],
    ]);
    expect(out.stale.map((p) => [p.metric_name, p.value, p.timestamp])).toEqual([
      ['rpc_seconds_count', 0, now],
      ['rpc_seconds_sum', 0, now],
    ]);
  });

  it('leaves out samples outside the window or with a bad name or label, counts them, and writes the rest', () => {
    const series = (name: string, labels: Record<string, string>, timestamp: number) => ({
      labels: [{ name: '__name__', value: name }, ...Object.entries(labels).map(([n, v]) => ({ name: n, value: v }))],
      samples: [{ value: 1, timestamp }],
    });
    const body = encode(WriteRequest, {
      timeseries: [
        series('ok_metric', {}, now),
        series('too_old', {}, now - RETENTION_MS - 60_000),
        series('too_new', {}, now + 2 * 86_400_000),
        series('tab\there', {}, now),
        series('long_label', { note: 'x'.repeat(2049) }, now),
        series('', { job: 'nameless' }, now),
      ],
    });
    const batch = decodeRemoteWrite(body, V1, LIMITS);
    const out = toMetricPoints('acme', batch, now);
    expect(out.points.map((p) => [p.metric_name, p.labels.service])).toEqual([['ok_metric', 'unknown']]);
    expect(out).toMatchObject({ total: 6, outOfWindow: 2, invalid: 3, rejectedSamples: 5, rejectedHistograms: 0 });
    expect(out.problems).toContain('tab\there{}: metric name must be 1 to 200 characters of UTF-8 without control characters');
    expect(out.problems.join('\n')).toMatch(/long_label\{note="xxx.*…\}: label note has a value longer than 2048/);
    expect(out.problems).toContain('(no __name__){job="nameless"}: the series has no __name__ label');
    const err = partialWriteError('samples', out)!;
    expect(err).toMatchObject({ status: 400, code: 'invalid_records' });
    expect(err.message).toBe(
      '5 of 6 samples were not written: 2 outside the accepted time window (the last 30 days to 1 day ahead), 3 with an invalid name or labels; the other 1 were written',
    );
    expect(writtenHeaders(batch, out)['X-Prometheus-Remote-Write-Samples-Written']).toBe('1');
  });

  it('reads labels that come after the samples, and a series sent again as the same one', () => {
    // Protobuf allows fields in any order: a TimeSeries whose last label follows its sample is one series with
    // both labels (the decoder's cache keys series by their leading label bytes, and must not stop there).
    const TimeSeries = protoType('prometheus-remote-write-1.proto', 'prometheus.TimeSeries');
    const part = (message: object) => Buffer.from(TimeSeries.encode(TimeSeries.fromObject(message)).finish());
    // Two series with the same leading label and another late one: each must come back with its own.
    for (const zone of ['b', 'c', 'b']) {
      const series = Buffer.concat([
        part({ labels: [{ name: '__name__', value: 'late_labels' }], samples: [{ value: 1, timestamp: now }] }),
        part({ labels: [{ name: 'zone', value: zone }] }),
      ]);
      const field = Buffer.concat([Buffer.from([0x0a]), Buffer.from(protobufVarint(series.length)), series]);
      const batch = decodeRemoteWrite(snappy.compressSync(field), V1, LIMITS);
      expect(batch.samples.map((p) => [p.metric_name, p.labels])).toEqual([['late_labels', { zone }]]);
    }
    const plain = encode(WriteRequest, {
      timeseries: [
        {
          labels: [
            { name: '__name__', value: 'm' },
            { name: 'zone', value: 'a' },
          ],
          samples: [{ value: 1, timestamp: now }],
        },
      ],
    });
    const [first, second] = [decodeRemoteWrite(plain, V1, LIMITS), decodeRemoteWrite(plain, V1, LIMITS)];
    expect(second.series[0]!.id).toBe(first.series[0]!.id);
    // Settled per tenant: the same series of another tenant hashes to its own partition.
    const [a, b] = [toMetricSeries('acme', first, now).series[0]!, toMetricSeries('other', second, now).series[0]!];
    expect([a.hash, b.hash]).toEqual([seriesHash('acme', 'm', { service: 'unknown', zone: 'a' }), seriesHash('other', 'm', { service: 'unknown', zone: 'a' })]);
  });

  it('reads 64-bit timestamps exactly, negative ones included', () => {
    const body = encode(WriteRequest, {
      timeseries: [
        { labels: [{ name: '__name__', value: 'm' }], samples: [{ value: 1, timestamp: 1_767_225_600_123 }, { value: 1, timestamp: -5 }, { value: 1 }] },
      ],
    });
    expect(decodeRemoteWrite(body, V1, LIMITS).samples.map((s) => s.timestamp)).toEqual([1_767_225_600_123, -5, 0]);
  });
});

describe('remote-write 2.0', () => {
  const now = Date.now();
  // symbols[0] must be ''; refs below point into this list.
  const symbols = ['', '__name__', 'http_requests_total', 'job', 'api', 'code', '200', 'trace_id', 'abc', 'Requests served.', 'latency_seconds'];

  const request = {
    symbols,
    timeseries: [
      {
        // Unsorted on purpose: code before job before __name__.
        labels_refs: [5, 6, 3, 4, 1, 2],
        samples: [{ value: 42, timestamp: now }],
        exemplars: [{ labels_refs: [7, 8], value: 0.3, timestamp: now }],
        metadata: { type: 1, help_ref: 9, unit_ref: 0 },
      },
      {
        labels_refs: [1, 10, 3, 4],
        histograms: [{ count_float: 7.5, sum: 1.25, timestamp: now }],
        metadata: { type: 3 },
      },
    ],
  };

  it('resolves symbols into sorted labels and counts exemplars and metadata', () => {
    const batch = decodeRemoteWrite(encode(RequestV2, request), V2, LIMITS);
    expect(batch).toMatchObject({ version: '2.0', exemplars: 1, metadata: 2 });
    expect(batch.samples).toEqual([{ metric_name: 'http_requests_total', labels: { code: '200', job: 'api' }, timestamp: now, value: 42, stale: false }]);
    expect(Object.keys(batch.samples[0]!.labels)).toEqual(['code', 'job']);
    expect(batch.histograms).toEqual([
      { metric_name: 'latency_seconds', labels: { job: 'api' }, timestamp: now, count: 7.5, sum: 1.25, stale: false, problem: undefined },
    ]);
    expect(writtenHeaders(batch)).toEqual({
      'X-Prometheus-Remote-Write-Samples-Written': '1',
      'X-Prometheus-Remote-Write-Histograms-Written': '1',
      'X-Prometheus-Remote-Write-Exemplars-Written': '1',
    });
    const out = toMetricPoints('acme', batch, now);
    expect(out.points.map((p) => `${p.metric_name}=${p.value} ${p.labels.service}`)).toEqual([
      'http_requests_total=42 api',
      'latency_seconds_count=7.5 api',
      'latency_seconds_sum=1.25 api',
    ]);
  });

  it('keeps the stale marker apart from other NaNs', () => {
    const body = encode(RequestV2, {
      symbols,
      timeseries: [
        {
          labels_refs: [1, 2],
          samples: [
            { value: STALE, timestamp: now },
            { value: OTHER_NAN, timestamp: now + 1 },
            { value: Infinity, timestamp: now + 2 },
          ],
        },
      ],
    });
    const batch = decodeRemoteWrite(body, V2, LIMITS);
    expect(batch.samples.map((s) => s.stale)).toEqual([true, false, false]);
    const out = toMetricPoints('acme', batch, now);
    expect(out.points.map((p) => p.value)).toEqual([NaN, Infinity]);
    expect(out.stale.length).toBe(1);
  });

  it('refuses a label ref past the symbols, an odd labels_refs and a bad exemplar or metadata ref, with a 400', () => {
    const bad = (timeseries: object[]) => errorOf(() => decodeRemoteWrite(encode(RequestV2, { symbols, timeseries }), V2, LIMITS));
    const e1 = bad([{ labels_refs: [1, 2, 3, 11], samples: [{ value: 1, timestamp: now }] }]);
    expect(e1).toMatchObject({ status: 400, code: 'bad_request' });
    expect(e1.message).toBe('timeseries[0].labels_refs refers to symbol 11, past the end of the 11 symbols');
    expect(bad([{ labels_refs: [1, 2, 3] }]).message).toMatch(/odd length/);
    expect(bad([{ labels_refs: [1, 2], exemplars: [{ labels_refs: [7, 99] }] }]).message).toMatch(/exemplars\[0\]\.labels_refs refers to symbol 99/);
    expect(bad([{ labels_refs: [1, 2], metadata: { type: 1, help_ref: 50 } }]).status).toBe(400);
  });

  it('says so when the Content-Type and the message disagree, instead of writing nothing', () => {
    const v1Body = encode(WriteRequest, { timeseries: [{ labels: [{ name: '__name__', value: 'm' }], samples: [{ value: 1, timestamp: now }] }] });
    expect(errorOf(() => decodeRemoteWrite(v1Body, V2, LIMITS)).message).toMatch(/empty io\.prometheus\.write\.v2\.Request: a prometheus\.WriteRequest sent/);
    expect(errorOf(() => decodeRemoteWrite(encode(RequestV2, request), V1, LIMITS)).message).toMatch(/empty prometheus\.WriteRequest/);
  });
});

describe('Prometheus conformance: histograms, ±Inf, UTF-8 names', () => {
  const now = Date.now();

  it('refuses a native histogram whose count (99) disagrees with its buckets (23), naming the series, and writes the rest', () => {
    // Before: the histogram became minimal_hist_count = 99 and the request was answered 204.
    const symbols = ['', '__name__', 'minimal_hist', 'job', 'test', 'test_histogram', 'up'];
    const body = encode(RequestV2, {
      symbols,
      timeseries: [
        { labels_refs: [1, 2, 3, 4], histograms: [complianceHistogram(1, { positive: true, badCount: true }, now)] },
        { labels_refs: [1, 5, 3, 4], histograms: [complianceHistogram(1, { positive: true, negative: true, zero: true }, now)] },
        { labels_refs: [1, 6, 3, 4], samples: [{ value: 1, timestamp: now }] },
      ],
    });
    const batch = decodeRemoteWrite(body, V2, LIMITS);
    const out = toMetricPoints('acme', batch, now);
    expect(out.points.map((p) => `${p.metric_name}=${p.value}`)).toEqual(['up=1', 'test_histogram_count=27', 'test_histogram_sum=1']);
    expect(out).toMatchObject({ total: 3, inconsistent: 1, invalid: 0, rejectedHistograms: 1, rejectedSamples: 0 });
    expect(out.problems).toEqual([
      'minimal_hist{job="test"}: native histogram refused: count is 99 but the buckets hold 23 (zero 0, positive 23, negative 0): they must be equal',
    ]);
    const err = partialWriteError('samples', out)!;
    expect([err.status, err.code]).toEqual([400, 'invalid_records']);
    expect(err.message).toBe('1 of 3 samples were not written: 1 native histograms whose count, buckets or schema do not agree; the other 2 were written');
    expect(writtenHeaders(batch, out)).toMatchObject({ 'X-Prometheus-Remote-Write-Samples-Written': '1', 'X-Prometheus-Remote-Write-Histograms-Written': '1' });
  });

  it('refuses the same histogram sent as remote-write 1.0', () => {
    const body = encode(WriteRequest, {
      timeseries: [{ labels: [{ name: '__name__', value: 'minimal_hist' }], histograms: [complianceHistogram(1, { positive: true, badCount: true }, now)] }],
    });
    const out = toMetricPoints('acme', decodeRemoteWrite(body, V1, LIMITS), now);
    expect([out.points.length, out.inconsistent]).toEqual([0, 1]);
  });

  it('keeps +Inf, -Inf and NaN as values, and says they were written', () => {
    // Before: all three were dropped while Samples-Written said 3.
    const body = encode(RequestV2, {
      symbols: ['', '__name__', 'edge_values'],
      timeseries: [
        {
          labels_refs: [1, 2],
          samples: [
            { value: Infinity, timestamp: now - 2 },
            { value: -Infinity, timestamp: now - 1 },
            { value: OTHER_NAN, timestamp: now },
          ],
        },
      ],
    });
    const batch = decodeRemoteWrite(body, V2, LIMITS);
    const out = toMetricPoints('acme', batch, now);
    expect(out.points.map((p) => p.value)).toEqual([Infinity, -Infinity, NaN]);
    expect(partialWriteError('samples', out)).toBeUndefined();
    expect(writtenHeaders(batch, out)['X-Prometheus-Remote-Write-Samples-Written']).toBe('3');
  });

  it('accepts UTF-8 metric and label names, as Prometheus 3 does', () => {
    // Before: "resource cpu usage" was refused as not Prometheus style.
    const symbols = ['', '__name__', 'resource cpu usage', 'label name é', 'värde "1"', 'job', 'node', 'http.server.duration'];
    const body = encode(RequestV2, {
      symbols,
      timeseries: [
        { labels_refs: [1, 2, 5, 6, 3, 4], samples: [{ value: 0.5, timestamp: now }] },
        { labels_refs: [1, 7, 5, 6], histograms: [complianceHistogram(2, { zero: true }, now)] },
      ],
    });
    const out = toMetricPoints('acme', decodeRemoteWrite(body, V2, LIMITS), now);
    expect(out.problems).toEqual([]);
    expect(out.points.map((p) => [p.metric_name, p.labels])).toEqual([
      ['resource cpu usage', { job: 'node', 'label name é': 'värde "1"', service: 'node' }],
      ['http.server.duration_count', { job: 'node', service: 'node' }],
      ['http.server.duration_sum', { job: 'node', service: 'node' }],
    ]);
  });

  it('refuses names and values that are not valid UTF-8, series by series', () => {
    // Before: protobufjs's strict UTF-8 check made the whole request a 400 "malformed protobuf", the valid series too.
    // Placeholders of the same length, swapped for invalid bytes after encoding: 0xC3 0x28 is a truncated 2-byte sequence.
    const raw = Buffer.from(
      WriteRequest.encode(
        WriteRequest.fromObject({
          timeseries: [
            { labels: [{ name: '__name__', value: 'bad@@name' }], samples: [{ value: 1, timestamp: now }] },
            {
              labels: [
                { name: '__name__', value: 'ok_name' },
                { name: 'zone', value: 'eu@@1' },
              ],
              samples: [{ value: 1, timestamp: now }],
            },
            {
              labels: [
                { name: '__name__', value: 'ok_name' },
                { name: 'lbl@@', value: 'x' },
              ],
              samples: [{ value: 1, timestamp: now }],
            },
            { labels: [{ name: '__name__', value: 'fine\ufffd' }], samples: [{ value: 2, timestamp: now }] },
          ],
        }),
      ).finish(),
    );
    for (let i = raw.indexOf('@@'); i >= 0; i = raw.indexOf('@@', i)) raw.set([0xc3, 0x28], i);
    const out = toMetricPoints('acme', decodeRemoteWrite(snappy.compressSync(raw), V1, LIMITS), now);
    // A real U+FFFD is valid UTF-8: only the repaired bytes are refused.
    expect(out.points.map((p) => [p.metric_name, p.value])).toEqual([['fine\ufffd', 2]]);
    expect(out).toMatchObject({ invalid: 3, rejectedSamples: 3 });
    expect(out.problems).toEqual([
      'bad\ufffd(name{}: the metric name is not valid UTF-8',
      'ok_name{zone="eu\ufffd(1"}: label zone has a value that is not valid UTF-8',
      'ok_name{lbl\ufffd(="x"}: label name lbl\ufffd( is not valid UTF-8',
    ]);
  });

  it('still refuses an empty label name and control characters in a metric name', () => {
    const body = encode(RequestV2, {
      symbols: ['', '__name__', 'ok_metric', 'x', 'line\nbreak'],
      timeseries: [
        { labels_refs: [1, 2, 0, 3], samples: [{ value: 1, timestamp: now }] },
        { labels_refs: [1, 4], samples: [{ value: 1, timestamp: now }] },
      ],
    });
    const out = toMetricPoints('acme', decodeRemoteWrite(body, V2, LIMITS), now);
    expect(out.points).toEqual([]);
    expect(out.problems).toEqual([
      'ok_metric{="x"}: a label has an empty name',
      'line\nbreak{}: metric name must be 1 to 200 characters of UTF-8 without control characters',
    ]);
  });
});

describe('remote-write refusals', () => {
  const body = encode(WriteRequest, { timeseries: [{ labels: [{ name: '__name__', value: 'm' }], samples: [{ value: 1, timestamp: Date.now() }] }] });

  it('answers 415 for a Content-Type or proto= it does not read, and for an encoding other than snappy', () => {
    for (const contentType of ['application/json', 'text/plain', 'application/x-protobuf;proto=io.prometheus.write.v3.Request']) {
      const err = errorOf(() => decodeRemoteWrite(body, { ...V1, contentType }, LIMITS));
      expect([err.status, err.code]).toEqual([415, 'unsupported_media_type']);
    }
    expect(errorOf(() => decodeRemoteWrite(body, { ...V1, contentEncoding: 'gzip' }, LIMITS)).status).toBe(415);
  });

  it('reads a missing Content-Type as 1.0, like Prometheus does', () => {
    expect(decodeRemoteWrite(body, { contentEncoding: 'snappy' }, LIMITS).samples).toHaveLength(1);
  });

  it('answers 400 for a missing encoding, an empty body, malformed snappy and malformed protobuf', () => {
    const missing = errorOf(() => decodeRemoteWrite(body, { contentType: V1.contentType }, LIMITS));
    expect([missing.status, missing.message]).toEqual([400, 'Content-Encoding: snappy is required: remote-write bodies are snappy block-compressed']);
    expect(errorOf(() => decodeRemoteWrite(new Uint8Array(0), V1, LIMITS)).message).toMatch(/^empty body/);

    // Declares 5 bytes, then copies from offset 2 of an output that is still empty.
    const corrupt = Buffer.from([5, 1, 2]);
    const snappyErr = errorOf(() => decodeRemoteWrite(corrupt, V1, LIMITS));
    expect([snappyErr.status, snappyErr.message]).toEqual([400, expect.stringMatching(/^malformed snappy/)]);
    expect(errorOf(() => decodeRemoteWrite(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), V1, LIMITS)).message).toMatch(/^malformed snappy/);

    // Valid snappy around bytes that are no protobuf: field 1 (timeseries) claims 100 bytes and has 2.
    const protoErr = errorOf(() => decodeRemoteWrite(snappy.compressSync(Buffer.from([0x0a, 100, 1, 2])), V1, LIMITS));
    expect([protoErr.status, protoErr.message]).toEqual([400, expect.stringMatching(/^malformed protobuf: the body is not a valid prometheus\.WriteRequest/)]);
    const v2Err = errorOf(() => decodeRemoteWrite(snappy.compressSync(Buffer.from([0x22, 0x05, 0x61])), V2, LIMITS));
    expect(v2Err.message).toMatch(/^malformed protobuf: the body is not a valid io\.prometheus\.write\.v2\.Request/);
  });

  it('answers 413 when the body would decompress past the limit, before decompressing it', () => {
    const big = snappy.compressSync(Buffer.alloc(5000, 7));
    expect(big.length).toBeLessThan(1000);
    const err = errorOf(() => decodeRemoteWrite(big, V1, { maxDecodedBytes: 4096 }));
    expect([err.status, err.code, err.message]).toEqual([
      413,
      'payload_too_large',
      'body decompresses to 5000 bytes, over the limit of 4096; send smaller batches',
    ]);
    // A header claiming 4 GiB is refused the same way, with no allocation.
    expect(errorOf(() => decodeRemoteWrite(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0]), V1, LIMITS)).status).toBe(413);
  });
});

describe('written headers', () => {
  it('count exemplars as written and subtract rejected samples and histograms', () => {
    const batch = { sampleCount: 10, histograms: new Array(3), exemplars: 4 };
    expect(writtenHeaders(batch, { rejectedSamples: 2, rejectedHistograms: 1 })).toEqual({
      'X-Prometheus-Remote-Write-Samples-Written': '8',
      'X-Prometheus-Remote-Write-Histograms-Written': '2',
      'X-Prometheus-Remote-Write-Exemplars-Written': '4',
    });
  });
});
