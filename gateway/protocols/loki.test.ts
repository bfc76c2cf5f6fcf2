import { gzipSync } from 'node:zlib';
import snappy from 'snappy';
import { describe, expect, it } from 'vitest';
import { RETENTION_MS } from '../records.ts';
import { decodeLokiPush, toLogEntries, type LokiStream } from './loki.ts';
import { partialWriteError } from './partial-write.ts';
import { protoType } from './protobuf.ts';
import { thrownAutopilotError } from '../../test/helpers/thrown.ts';

const LIMITS = { maxDecodedBytes: 1 << 20 };
const JSON_HEADERS = { contentType: 'application/json' };
const PROTO_HEADERS = { contentType: 'application/x-protobuf' };
const PushRequest = protoType('loki-push.proto', 'logproto.PushRequest');

const now = Date.now();
// Sub-millisecond digits on purpose: ns → ms must truncate them, exactly.
const ns = (ms: number) => `${ms}123456`;

const errorOf = thrownAutopilotError;

const jsonBody = (body: unknown) => Buffer.from(JSON.stringify(body));

/** The same push in both wire forms. */
const push = {
  streams: [
    {
      stream: { service_name: 'checkout', job: 'k8s/checkout', level: 'WARNING', pod: 'checkout-7f9' },
      values: [
        [ns(now - 2000), 'payment slow'],
        [ns(now - 1000), 'payment retried', { trace_id: 'abc123', pod: 'ignored: stream labels win' }],
      ],
    },
    { stream: { app: 'web', severity: 'notice' }, values: [[ns(now), 'GET / 200', { detected_level: 'error' }]] },
    { stream: { env: 'prod' }, values: [[ns(now), 'orphan line']] },
  ],
};

function protoBody(): Buffer {
  const streams = [
    {
      labels: '{service_name="checkout", job="k8s/checkout", level="WARNING", pod="checkout-7f9"}',
      entries: [
        { timestamp: { seconds: Math.floor((now - 2000) / 1000), nanos: ((now - 2000) % 1000) * 1e6 + 123456 }, line: 'payment slow' },
        {
          timestamp: { seconds: Math.floor((now - 1000) / 1000), nanos: ((now - 1000) % 1000) * 1e6 + 123456 },
          line: 'payment retried',
          structuredMetadata: [
            { name: 'trace_id', value: 'abc123' },
            { name: 'pod', value: 'ignored: stream labels win' },
          ],
        },
      ],
    },
    {
      labels: '{app="web", severity="notice"}',
      entries: [
        {
          timestamp: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 + 123456 },
          line: 'GET / 200',
          structuredMetadata: [{ name: 'detected_level', value: 'error' }],
        },
      ],
    },
    { labels: '{env="prod"}', entries: [{ timestamp: { seconds: Math.floor(now / 1000), nanos: (now % 1000) * 1e6 + 123456 }, line: 'orphan line' }] },
  ];
  return snappy.compressSync(PushRequest.encode(PushRequest.fromObject({ streams })).finish());
}

const expectedEntries = [
  { tenant: 'acme', timestamp: now - 2000, level: 'warn', message: 'payment slow', service: 'checkout', labels: { job: 'k8s/checkout', pod: 'checkout-7f9' } },
  {
    tenant: 'acme',
    timestamp: now - 1000,
    level: 'warn',
    message: 'payment retried',
    service: 'checkout',
    labels: { job: 'k8s/checkout', pod: 'checkout-7f9', trace_id: 'abc123' },
  },
  // `notice` is no level records.ts knows: it stays a label, and detected_level from the metadata decides.
  { tenant: 'acme', timestamp: now, level: 'error', message: 'GET / 200', service: 'web', labels: { severity: 'notice' } },
  { tenant: 'acme', timestamp: now, level: 'info', message: 'orphan line', service: 'unknown', labels: { env: 'prod' } },
];

describe('Loki push, JSON', () => {
  it('decodes streams, labels and structured metadata, keeping nanoseconds exact', () => {
    const streams = decodeLokiPush(jsonBody(push), JSON_HEADERS, LIMITS);
    expect(streams).toHaveLength(3);
    expect(streams[0]!.labels).toEqual(push.streams[0]!.stream);
    expect(streams[0]!.entries[1]).toEqual({
      timestamp_ns: ns(now - 1000),
      line: 'payment retried',
      metadata: { trace_id: 'abc123', pod: 'ignored: stream labels win' },
    });
    expect(streams[0]!.entries[0]!.metadata).toEqual({});
  });

  it('maps to LogEntries: service, level normalised, used labels taken out, ns truncated to ms', () => {
    const out = toLogEntries('acme', decodeLokiPush(jsonBody(push), JSON_HEADERS, LIMITS), now);
    expect(out.entries).toEqual(expectedEntries);
    expect(Object.keys(out.entries[1]!.labels)).toEqual(['job', 'pod', 'trace_id']);
    expect(partialWriteError('log entries', out)).toBeUndefined();
  });

  it('reads a gzip body the same, and refuses one that inflates past the limit or is no gzip', () => {
    const gz = gzipSync(jsonBody(push));
    expect(decodeLokiPush(gz, { ...JSON_HEADERS, contentEncoding: 'gzip' }, LIMITS)).toEqual(decodeLokiPush(jsonBody(push), JSON_HEADERS, LIMITS));
    const big = gzipSync(jsonBody({ streams: [{ stream: { job: 'x' }, values: [[ns(now), 'x'.repeat(10_000)]] }] }));
    expect(big.length).toBeLessThan(1000);
    const tooBig = errorOf(() => decodeLokiPush(big, { ...JSON_HEADERS, contentEncoding: 'gzip' }, { maxDecodedBytes: 5000 }));
    expect([tooBig.status, tooBig.code]).toEqual([413, 'payload_too_large']);
    const notGzip = errorOf(() => decodeLokiPush(jsonBody(push), { ...JSON_HEADERS, contentEncoding: 'gzip' }, LIMITS));
    expect([notGzip.status, notGzip.message]).toEqual([400, expect.stringMatching(/^malformed gzip/)]);
  });

  it('refuses malformed JSON, a wrong shape, a stream without labels and a bad label name, with a 400', () => {
    expect(errorOf(() => decodeLokiPush(Buffer.from('{"streams": ['), JSON_HEADERS, LIMITS)).message).toMatch(/^malformed JSON/);
    const numeric = errorOf(() =>
      decodeLokiPush(jsonBody({ streams: [{ stream: { job: 'x' }, values: [[1767225600000000000, 'line']] }] }), JSON_HEADERS, LIMITS),
    );
    expect([numeric.status, numeric.message]).toEqual([400, expect.stringContaining('streams.0.values.0')]);
    expect(errorOf(() => decodeLokiPush(jsonBody({ streams: [{ stream: {}, values: [] }] }), JSON_HEADERS, LIMITS)).message).toBe(
      'streams[0] has no labels: at least one label is required per stream',
    );
    expect(errorOf(() => decodeLokiPush(jsonBody({ streams: [{ stream: { 'bad-name': 'x' }, values: [] }] }), JSON_HEADERS, LIMITS)).message).toMatch(
      /label name "bad-name"/,
    );
    expect(errorOf(() => decodeLokiPush(new Uint8Array(0), JSON_HEADERS, LIMITS)).status).toBe(400);
  });
});

describe('Loki push, protobuf', () => {
  it('decodes to the same streams as the JSON form, with or without a Content-Type', () => {
    const fromJson = decodeLokiPush(jsonBody(push), JSON_HEADERS, LIMITS);
    expect(decodeLokiPush(protoBody(), PROTO_HEADERS, LIMITS)).toEqual(fromJson);
    expect(decodeLokiPush(protoBody(), { contentEncoding: 'snappy' }, LIMITS)).toEqual(fromJson);
    expect(toLogEntries('acme', decodeLokiPush(protoBody(), PROTO_HEADERS, LIMITS), now).entries).toEqual(expectedEntries);
  });

  it('refuses a malformed label string, malformed snappy or protobuf, an empty body, with a 400', () => {
    const bad = snappy.compressSync(PushRequest.encode(PushRequest.fromObject({ streams: [{ labels: '{job=api}', entries: [] }] })).finish());
    expect(errorOf(() => decodeLokiPush(bad, PROTO_HEADERS, LIMITS)).message).toMatch(/^malformed label set "\{job=api\}"/);
    expect(errorOf(() => decodeLokiPush(Buffer.from([5, 1, 2]), PROTO_HEADERS, LIMITS)).message).toMatch(/^malformed snappy/);
    expect(errorOf(() => decodeLokiPush(snappy.compressSync(Buffer.from([0x0a, 50, 1])), PROTO_HEADERS, LIMITS)).message).toMatch(
      /^malformed protobuf: the body is not a valid logproto\.PushRequest/,
    );
    expect(errorOf(() => decodeLokiPush(new Uint8Array(0), PROTO_HEADERS, LIMITS)).status).toBe(400);
  });

  it('answers 413 past the decompressed limit and 415 for an encoding or a Content-Type it does not read', () => {
    expect(errorOf(() => decodeLokiPush(protoBody(), PROTO_HEADERS, { maxDecodedBytes: 50 })).status).toBe(413);
    const gz = errorOf(() => decodeLokiPush(protoBody(), { ...PROTO_HEADERS, contentEncoding: 'gzip' }, LIMITS));
    expect([gz.status, gz.code]).toEqual([415, 'unsupported_media_type']);
    expect(errorOf(() => decodeLokiPush(jsonBody(push), { contentType: 'text/plain' }, LIMITS)).status).toBe(415);
    expect(errorOf(() => decodeLokiPush(jsonBody(push), { ...JSON_HEADERS, contentEncoding: 'br' }, LIMITS)).status).toBe(415);
  });
});

describe('Loki entries that cannot be written', () => {
  it('are left out and counted: outside the window, a line too long, a label value too long', () => {
    const streams: LokiStream[] = [
      {
        labels: { job: 'api' },
        entries: [
          { timestamp_ns: ns(now), line: 'kept', metadata: {} },
          { timestamp_ns: ns(now - RETENTION_MS - 60_000), line: 'too old', metadata: {} },
          { timestamp_ns: ns(now + 2 * 86_400_000), line: 'too new', metadata: {} },
          { timestamp_ns: '5', line: 'no real timestamp', metadata: {} },
          { timestamp_ns: ns(now), line: 'x'.repeat(64 * 1024 + 1), metadata: {} },
          { timestamp_ns: ns(now), line: 'long metadata', metadata: { note: 'y'.repeat(2049) } },
        ],
      },
      { labels: { job: 'api', big: 'z'.repeat(2049) }, entries: [{ timestamp_ns: ns(now), line: 'whole stream bad', metadata: {} }] },
    ];
    const out = toLogEntries('acme', streams, now);
    expect(out.entries.map((e) => e.message)).toEqual(['kept']);
    expect(out).toMatchObject({ total: 7, outOfWindow: 3, invalid: 3 });
    expect(out.problems.join('\n')).toMatch(/longer than 65536 characters/);
    expect(out.problems.join('\n')).toMatch(/label note has a value longer than 2048/);
    expect(partialWriteError('log entries', out)!.message).toBe(
      '6 of 7 log entries were not written: 3 outside the accepted time window (the last 30 days to 1 day ahead), 3 with an invalid name or labels; the other 1 were written',
    );
  });
});
