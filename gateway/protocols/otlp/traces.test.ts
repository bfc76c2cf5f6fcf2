import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../lib/time.ts';
import { decodeOtlp } from './decode.ts';
import type { KeyValueMsg, SpanMsg, TracesRequestMsg } from './messages.ts';
import { toSpans } from './traces.ts';

/**
 * OTLP traces → span records, with no Kafka: ids as hex, kind and status by
 * name, attributes as sorted string maps, the partial-success counts. Each
 * test fails without traces.ts (there was no conversion of traces before).
 */
const now = Date.UTC(2026, 5, 1, 12);
const NS = 1_000_000;
const t = (msAfterNow: number) => (now + msAfterNow) * NS;

const bytes = (hexText: string) => new Uint8Array(Buffer.from(hexText, 'hex'));
const str = (key: string, value: string): KeyValueMsg => ({ key, value: { value: 'string_value', string_value: value } as KeyValueMsg['value'] & object });
const int = (key: string, value: number): KeyValueMsg => ({ key, value: { value: 'int_value', int_value: value } as KeyValueMsg['value'] & object });

const TRACE = '5b8efff798038103d269b633813fc60c';
const span = (over: Partial<SpanMsg> = {}): SpanMsg => ({
  trace_id: bytes(TRACE),
  span_id: bytes('eee19b7ec3c1b174'),
  trace_state: '',
  parent_span_id: new Uint8Array(0),
  flags: 0,
  name: 'GET /cart',
  kind: 2,
  start_time_unix_nano: t(-1000),
  end_time_unix_nano: t(-1000) + 2_560_000, // a multiple of 256 ns: exact beside a double of epoch ns
  attributes: [],
  events: [],
  links: [],
  status: null,
  ...over,
});
const request = (spans: SpanMsg[], resource: KeyValueMsg[] = [str('service.name', 'cart')], scope = { name: 'shop', version: '1.2.0', attributes: [] }) =>
  ({ resource_spans: [{ resource: { attributes: resource, dropped_attributes_count: 0 }, scope_spans: [{ scope, spans }] }] }) as TracesRequestMsg;

describe('OTLP spans as span records', () => {
  it('keeps every field: hex ids, kind and status by name, sorted attribute maps, the resource’s service, scope, events and links', () => {
    const out = toSpans(
      'acme',
      request(
        [
          span({
            parent_span_id: bytes('00f067aa0ba902b7'),
            trace_state: 'congo=t61rcWkgMzE',
            kind: 3,
            attributes: [str('http.route', '/cart'), int('http.status_code', 503), str('a.first', 'x')],
            status: { code: 2, message: 'upstream timeout' },
            events: [{ time_unix_nano: t(-999), name: 'exception', attributes: [str('exception.type', 'Timeout'), str('exception.message', 'after 2 s')] }],
            links: [
              { trace_id: bytes('0af7651916cd43dd8448eb211c80319c'), span_id: bytes('b7ad6b7169203331'), trace_state: 'k=v', attributes: [int('attempt', 2)] },
            ],
          }),
        ],
        [str('service.name', 'cart'), str('host.name', 'web-1'), int('process.pid', 42)],
      ),
      now,
    );
    expect(out).toMatchObject({ total: 1, outOfWindow: 0, invalid: 0, problems: [] });
    expect(out.spans).toEqual([
      {
        tenant: 'acme',
        trace_id: TRACE,
        span_id: 'eee19b7ec3c1b174',
        parent_span_id: '00f067aa0ba902b7',
        trace_state: 'congo=t61rcWkgMzE',
        name: 'GET /cart',
        kind: 'Client',
        service: 'cart',
        resource_attributes: { 'host.name': 'web-1', 'process.pid': '42', 'service.name': 'cart' },
        scope_name: 'shop',
        scope_version: '1.2.0',
        span_attributes: { 'a.first': 'x', 'http.route': '/cart', 'http.status_code': '503' },
        start_time_unix_nano: t(-1000),
        duration_ns: 2_560_000,
        status_code: 'Error',
        status_message: 'upstream timeout',
        events: [{ time_unix_nano: t(-999), name: 'exception', attributes: { 'exception.message': 'after 2 s', 'exception.type': 'Timeout' } }],
        links: [{ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', trace_state: 'k=v', attributes: { attempt: '2' } }],
      },
    ]);
    expect(Object.keys(out.spans[0]!.span_attributes)).toEqual(['a.first', 'http.route', 'http.status_code']);
  });

  it('names every kind and status code, an unknown one as Unspecified / Unset; a root span’s parent is empty, an all-zero parent too', () => {
    const spans = [0, 1, 2, 3, 4, 5, 9].map((kind, i) =>
      span({ kind, span_id: bytes(`00000000000000${(i + 1).toString(16).padStart(2, '0')}`), status: i < 4 ? { code: i, message: '' } : null }),
    );
    spans.push(span({ span_id: bytes('00000000000000ff'), parent_span_id: bytes('0000000000000000') }));
    const out = toSpans('acme', request(spans), now);
    expect(out.spans.map((s) => s.kind)).toEqual(['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer', 'Unspecified', 'Server']);
    expect(out.spans.map((s) => s.status_code)).toEqual(['Unset', 'Ok', 'Error', 'Unset', 'Unset', 'Unset', 'Unset', 'Unset']);
    expect(out.spans.map((s) => s.parent_span_id)).toEqual(Array(8).fill(''));
  });

  it('shares one resource map among a resource’s spans; a resource without service.name is unknown_service', () => {
    const out = toSpans('acme', request([span(), span({ span_id: bytes('0000000000000002') })], [str('host.name', 'h')]), now);
    expect(out.spans.map((s) => s.service)).toEqual(['unknown_service', 'unknown_service']);
    expect(out.spans[0]!.resource_attributes).toBe(out.spans[1]!.resource_attributes);
  });

  it('leaves out and counts spans with invalid ids (wrong length or all zero, as the OTLP spec says), writing the others', () => {
    const out = toSpans(
      'acme',
      request([
        span({ trace_id: new Uint8Array(16) }),
        span({ trace_id: bytes(TRACE.slice(2)) }),
        span({ span_id: new Uint8Array(8) }),
        span({ span_id: new Uint8Array(0) }),
        span({ parent_span_id: bytes('00f067aa') }),
        span({ name: 'fine' }),
      ]),
      now,
    );
    expect(out).toMatchObject({ total: 6, invalid: 5, outOfWindow: 0 });
    expect(out.spans.map((s) => s.name)).toEqual(['fine']);
    expect(out.problems).toEqual([
      'span 0 ("GET /cart"): trace_id must be 16 bytes, not all zero (got "00000000000000000000000000000000")',
      `span 1 ("GET /cart"): trace_id must be 16 bytes, not all zero (got "${TRACE.slice(2)}")`,
      'span 2 ("GET /cart"): span_id must be 8 bytes, not all zero (got "0000000000000000")',
      'span 3 ("GET /cart"): span_id must be 8 bytes, not all zero (got "")',
      'span 4 ("GET /cart"): parent_span_id must be empty or 8 bytes (got "00f067aa")',
    ]);
  });

  it('leaves out and counts spans outside the raw tables’ window (start, end or an event); a span never ended has duration 0', () => {
    const out = toSpans(
      'acme',
      request([
        span({ name: 'old', start_time_unix_nano: t(-31 * DAY_MS), end_time_unix_nano: t(-31 * DAY_MS) + 1 }),
        span({ name: 'ahead', start_time_unix_nano: t(DAY_MS + 60_000), end_time_unix_nano: t(DAY_MS + 61_000) }),
        span({ name: 'ends ahead', end_time_unix_nano: t(2 * DAY_MS) }),
        span({ name: 'event at 0', events: [{ time_unix_nano: 0, name: 'e', attributes: [] }] }),
        span({ name: 'never ended', end_time_unix_nano: 0 }),
        span({ name: 'edge', start_time_unix_nano: t(-30 * DAY_MS + 1000), end_time_unix_nano: t(-30 * DAY_MS + 2000) }),
      ]),
      now,
    );
    expect(out).toMatchObject({ total: 6, invalid: 0, outOfWindow: 4 });
    expect(out.spans.map((s) => [s.name, s.duration_ns])).toEqual([
      ['never ended', 0],
      ['edge', 1_000_000_000],
    ]);
    expect(out.problems).toHaveLength(4);
    expect(out.problems[0]).toMatch(/^span 0 \("old"\): start_time_unix_nano \d+, outside the accepted window$/);
    expect(out.problems[3]).toBe('span 3 ("event at 0"): event 0 time_unix_nano 0, outside the accepted window');
  });

  it('reads the decoder’s shape of an OTLP/JSON body (hex ids, string nanoseconds) the same as protobuf’s', () => {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
          scopeSpans: [
            {
              scope: { name: 'manual' },
              spans: [
                {
                  traceId: TRACE,
                  spanId: 'eee19b7ec3c1b174',
                  parentSpanId: '',
                  name: 'POST /pay',
                  kind: 2,
                  startTimeUnixNano: String(t(-5000)),
                  endTimeUnixNano: String(t(-4000)),
                  attributes: [{ key: 'http.response.status_code', value: { intValue: '200' } }],
                  status: { code: 1 },
                },
              ],
            },
          ],
        },
      ],
    };
    const { request: decoded } = decodeOtlp<TracesRequestMsg>(
      'traces',
      Buffer.from(JSON.stringify(body)),
      { contentType: 'application/json' },
      { maxDecodedBytes: 1 << 20 },
    );
    const out = toSpans('acme', decoded, now);
    expect(out).toMatchObject({ total: 1, invalid: 0, outOfWindow: 0 });
    expect(out.spans[0]).toMatchObject({
      trace_id: TRACE,
      span_id: 'eee19b7ec3c1b174',
      parent_span_id: '',
      service: 'checkout',
      scope_name: 'manual',
      scope_version: '',
      kind: 'Server',
      status_code: 'Ok',
      duration_ns: 1_000_000_000,
      span_attributes: { 'http.response.status_code': '200' },
      events: [],
      links: [],
    });
  });
});
