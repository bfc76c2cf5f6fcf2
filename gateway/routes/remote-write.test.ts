import snappy from 'snappy';
import { describe, expect, it } from 'vitest';
import { RETENTION_MS } from '../records.ts';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { REMOTE_WRITE_V1_HEADERS, REMOTE_WRITE_V2_HEADERS, remoteWriteV1, remoteWriteV2, STALE_NAN, type Series } from '../../test/helpers/ingest-bodies.ts';

/**
 * POST /api/v1/write through the app: the statuses Prometheus acts on. The
 * decoding itself is tested in protocols/remote-write.test.ts; here, what
 * reaches Kafka for each answer. 401/413/429/503: ingest-contract.test.ts.
 */
const now = Date.now();
const up = (samples: Series['samples'], labels: Record<string, string> = {}): Series => ({
  labels: { job: 'checkout', __name__: 'up', instance: 'a:9090', ...labels },
  samples,
});
const VERSIONS = [
  { version: '1.0', headers: REMOTE_WRITE_V1_HEADERS, encode: remoteWriteV1 },
  { version: '2.0', headers: REMOTE_WRITE_V2_HEADERS, encode: remoteWriteV2 },
];

describe.each(VERSIONS)('remote-write $version', ({ version, headers, encode }) => {
  const write = (t: ReturnType<typeof routeTestApp>, series: Series[]) => t.a('POST', '/api/v1/write', encode(series), headers);

  it('sends each sample as a metric point: name from __name__, labels sorted, service from job', async () => {
    const t = routeTestApp();
    expect((await write(t, [up([{ value: 1, timestamp: now }])])).status).toBe(204);
    expect(t.publisher.published.map((b) => b.kind)).toEqual(['metrics']);
    const [point] = t.publisher.records('metrics');
    expect(point).toEqual({
      tenant: TEST_TENANTS.a,
      timestamp: now,
      metric_name: 'up',
      value: 1,
      labels: { instance: 'a:9090', job: 'checkout', service: 'checkout' },
    });
    expect(Object.keys(point!.labels)).toEqual(['instance', 'job', 'service']);
  });

  it('sends a staleness marker to the stale-markers topic, not as a value', async () => {
    const t = routeTestApp();
    expect(
      (
        await write(t, [
          up([
            { value: 1, timestamp: now - 1000 },
            { value: STALE_NAN, timestamp: now },
          ]),
        ])
      ).status,
    ).toBe(204);
    expect(t.publisher.records('metrics').map((p) => p.value)).toEqual([1]);
    expect(t.publisher.records('staleMarkers')).toEqual([
      { tenant: TEST_TENANTS.a, timestamp: now, metric_name: 'up', labels: { instance: 'a:9090', job: 'checkout', service: 'checkout' } },
    ]);
  });

  it('writes the valid part of a partial write, then answers 400 naming what was left out', async () => {
    const t = routeTestApp();
    const res = await write(t, [up([{ value: 1, timestamp: now }]), up([{ value: 2, timestamp: now - RETENTION_MS - 60_000 }], { instance: 'old:9090' })]);
    const error = await expectError(res, 400, 'invalid_records');
    expect(error.message).toMatch(/^1 of 2 samples were not written: 1 outside the accepted time window.*the other 1 were written$/);
    expect(error.details).toEqual([expect.stringContaining('instance="old:9090"')]);
    expect(t.publisher.records('metrics').map((p) => p.value)).toEqual([1]);
    // 2.0 says how much was written, on a 4xx too (spec: "Required Written Response Headers").
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe(version === '2.0' ? '1' : null);
  });
});

describe('remote-write 2.0 written counts', () => {
  it('answers 204 with the samples, histograms and exemplars written', async () => {
    const t = routeTestApp();
    const res = await t.a(
      'POST',
      '/api/v1/write',
      remoteWriteV2([
        up([
          { value: 1, timestamp: now - 1000 },
          { value: 2, timestamp: now },
        ]),
      ]),
      REMOTE_WRITE_V2_HEADERS,
    );
    expect(res.status).toBe(204);
    expect(Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('x-prometheus-remote-write-')))).toEqual({
      'x-prometheus-remote-write-samples-written': '2',
      'x-prometheus-remote-write-histograms-written': '0',
      'x-prometheus-remote-write-exemplars-written': '0',
    });
  });
});

describe('remote-write bodies it cannot read: refused, nothing sent', () => {
  const body = remoteWriteV1([up([{ value: 1, timestamp: now }])]);
  // A body that declares a decoded size over 8 × the body limit (64 KiB here): refused before it is inflated.
  const bomb = snappy.compressSync(Buffer.alloc(600 * 1024));

  it.each([
    ['no Content-Encoding', body, { ...REMOTE_WRITE_V1_HEADERS, 'content-encoding': '' }, 400, /snappy is required/],
    ['gzip instead of snappy', body, { ...REMOTE_WRITE_V1_HEADERS, 'content-encoding': 'gzip' }, 415, /Content-Encoding gzip is not accepted/],
    [
      'a protobuf message it does not know',
      body,
      { ...REMOTE_WRITE_V1_HEADERS, 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v3.Request' },
      415,
      /is not accepted/,
    ],
    [
      'JSON',
      Buffer.from('{"timeseries": []}'),
      { ...REMOTE_WRITE_V1_HEADERS, 'content-type': 'application/json' },
      415,
      /Content-Type application\/json is not accepted/,
    ],
    ['bytes that are not snappy', Buffer.from([0x05, 0xff, 0xff, 0xff, 0xff, 0xff]), REMOTE_WRITE_V1_HEADERS, 400, /malformed snappy/],
    ['snappy that is not a WriteRequest', snappy.compressSync(Buffer.from('not protobuf at all')), REMOTE_WRITE_V1_HEADERS, 400, /malformed protobuf/],
    ['a body that inflates past 8 × the body limit', bomb, REMOTE_WRITE_V1_HEADERS, 413, /decompresses to 614400 bytes, over the limit of 524288/],
  ])('%s: %i', async (_what, sent, headers, status, message) => {
    const t = routeTestApp({ maxBodyBytes: 64 * 1024 });
    const code = { 400: 'bad_request', 413: 'payload_too_large', 415: 'unsupported_media_type' }[status]!;
    expect((await expectError(await t.a('POST', '/api/v1/write', sent, headers), status, code)).message).toMatch(message);
    expect(t.publisher.published).toEqual([]);
  });
});
