import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RETENTION_MS } from '../records.ts';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { JSON_HEADERS, LOKI_PROTO_HEADERS, lokiGzipJson, lokiJson, lokiProto, type LokiStream } from '../../test/helpers/ingest-bodies.ts';

/**
 * POST /loki/api/v1/push through the app: what reaches Kafka for each wire
 * form, the partial write, and the bodies it refuses. Decoding details are in
 * protocols/loki.test.ts; 401/413/429/503 in ingest-contract.test.ts.
 */
const now = Date.now();
const push: LokiStream[] = [
  {
    labels: { service_name: 'checkout', level: 'warn', pod: 'checkout-1' },
    lines: [
      { ms: now - 1000, line: 'slow' },
      { ms: now, line: 'slower' },
    ],
  },
];
const FORMS = [
  { form: 'JSON', body: lokiJson(push), headers: JSON_HEADERS },
  { form: 'gzip JSON', body: lokiGzipJson(push), headers: { ...JSON_HEADERS, 'content-encoding': 'gzip' } },
  { form: 'snappy protobuf', body: lokiProto(push), headers: LOKI_PROTO_HEADERS },
  // Promtail sends protobuf with no Content-Type at all; Loki reads that as protobuf, and so must this.
  { form: 'protobuf without Content-Type', body: lokiProto(push), headers: {} },
];

describe('Loki push', () => {
  it.each(FORMS)('sends every line of $form as a log entry and answers 204', async ({ body, headers }) => {
    const t = routeTestApp();
    const res = await t.a('POST', '/loki/api/v1/push', body, headers);
    expect(res.status, await res.clone().text()).toBe(204);
    const entry = { tenant: TEST_TENANTS.a, level: 'warn', service: 'checkout', labels: { pod: 'checkout-1' } };
    expect(t.publisher.records('logs')).toEqual([
      { ...entry, timestamp: now - 1000, message: 'slow' },
      { ...entry, timestamp: now, message: 'slower' },
    ]);
  });

  it('writes the lines it can, then answers 400 naming the ones left out', async () => {
    const t = routeTestApp();
    const old = now - RETENTION_MS - 60_000;
    const res = await t.a(
      'POST',
      '/loki/api/v1/push',
      lokiJson([
        {
          labels: { service_name: 'checkout' },
          lines: [
            { ms: now, line: 'kept' },
            { ms: old, line: 'too old' },
          ],
        },
      ]),
      JSON_HEADERS,
    );
    const error = await expectError(res, 400, 'invalid_records');
    expect(error.message).toMatch(/^1 of 2 log lines were not written/);
    expect(t.publisher.records('logs').map((e) => e.message)).toEqual(['kept']);
  });

  // A gzip body that declares more than 8 × the body limit (64 KiB here) once inflated.
  const gzipBomb = gzipSync(Buffer.from(JSON.stringify({ streams: [{ stream: { job: 'x' }, values: [[`${now}000000`, 'x'.repeat(600 * 1024)]] }] })));
  it.each([
    ['protobuf sent gzip', lokiProto(push), { ...LOKI_PROTO_HEADERS, 'content-encoding': 'gzip' }, 415, /Content-Encoding gzip is not accepted for protobuf/],
    [
      'JSON sent snappy',
      Buffer.from(lokiJson(push)),
      { ...JSON_HEADERS, 'content-encoding': 'snappy' },
      415,
      /Content-Encoding snappy is not accepted for JSON/,
    ],
    ['form data', Buffer.from(lokiJson(push)), { 'content-type': 'application/x-www-form-urlencoded' }, 415, /Content-Type .* is not accepted/],
    [
      'a timestamp that is a number',
      Buffer.from(`{"streams": [{"stream": {"job": "x"}, "values": [[${now}000000, "line"]]}]}`),
      JSON_HEADERS,
      400,
      /invalid Loki push: streams\.0\.values\.0/,
    ],
    ['a stream with no labels', Buffer.from(lokiJson([{ labels: {}, lines: [{ ms: now, line: 'x' }] }])), JSON_HEADERS, 400, /streams\[0\] has no labels/],
    ['gzip that is not gzip', Buffer.from(lokiJson(push)), { ...JSON_HEADERS, 'content-encoding': 'gzip' }, 400, /malformed gzip/],
    ['gzip that inflates past 8 × the body limit', gzipBomb, { ...JSON_HEADERS, 'content-encoding': 'gzip' }, 413, /decompresses to more than 524288 bytes/],
  ])('refuses %s with %i and sends nothing', async (_what, body, headers, status, message) => {
    const t = routeTestApp({ maxBodyBytes: 64 * 1024 });
    const code = { 400: 'bad_request', 413: 'payload_too_large', 415: 'unsupported_media_type' }[status]!;
    expect((await expectError(await t.a('POST', '/loki/api/v1/push', body, headers), status, code)).message).toMatch(message);
    expect(t.publisher.published).toEqual([]);
  });
});
