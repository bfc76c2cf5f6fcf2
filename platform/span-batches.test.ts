import avro from 'avsc';
import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { spansOf } from '../schemas/span-batch.ts';
import { partitionOf, TOPICS, type Span, type SpanBatch } from '../schemas/topics.ts';
import { CHUNK_BYTES, encodeSpanBatches, MAX_RECORD_BYTES, recordBytes } from './publisher.ts';

/**
 * The publisher's span path without Kafka: a request's spans become one
 * record per tenant and partition of their traces, each within CHUNK_BYTES,
 * and a span Kafka could never take refuses the request before anything is
 * sent. encodeSpanBatches did not exist before span batches.
 */
const type = avro.Type.forSchema(JSON.parse(TOPICS.spans.schema));
const HEADER = Buffer.from([0, 0, 0, 0, 42]);
const encode = (b: SpanBatch) => Buffer.concat([HEADER, type.toBuffer(b)]);
const decode = (m: Message) => type.fromBuffer((m.value as Buffer).subarray(5)) as SpanBatch;

const now = Date.UTC(2026, 11, 1);
const resource = { 'service.name': 'api', 'telemetry.sdk.language': 'nodejs' };
const span = (i: number, statusMessage = ''): Span => ({
  tenant: 'acme',
  trace_id: (Math.floor(i / 4) + 1).toString(16).padStart(32, '0'),
  span_id: (i + 1).toString(16).padStart(16, '0'),
  parent_span_id: '',
  trace_state: '',
  name: 'GET /item',
  kind: 'Server',
  service: 'api',
  resource_attributes: resource,
  scope_name: 'http',
  scope_version: '1',
  span_attributes: { 'http.route': '/item/:id' },
  start_time_unix_nano: (now + i) * 1_000_000,
  duration_ns: 1_000,
  status_code: 'Unset',
  status_message: statusMessage,
  events: [],
  links: [],
});
const sorted = (spans: Span[]) => spans.map((s) => JSON.stringify(s)).sort();

describe('spans as batch records', () => {
  it("one record per tenant and partition, every span on its trace's partition, keyed by its first span's trace", () => {
    const spans = Array.from({ length: 1000 }, (_, i) => span(i));
    const one = encodeSpanBatches(encode, spans, 1);
    expect(one).toHaveLength(1);
    expect(sorted(spansOf(decode(one[0]!)))).toEqual(sorted(spans));

    const messages = encodeSpanBatches(encode, spans, 4);
    expect(messages).toHaveLength(4);
    for (const m of messages) {
      const batch = decode(m);
      expect(batch.resources).toHaveLength(1); // the resource once per record, not once per span
      for (const s of batch.spans) expect(partitionOf(`acme\u0000${s.trace_id}`, 4)).toBe(m.partition);
      expect(m.key).toBe(TOPICS.spans.key(batch));
      expect(partitionOf(String(m.key), 4)).toBe(m.partition);
    }
    expect(sorted(messages.flatMap((m) => spansOf(decode(m))))).toEqual(sorted(spans));
  });

  it('cuts a large request into records within CHUNK_BYTES, non-ASCII text (which the estimate undercounts) halved again, nothing lost', () => {
    const spans = Array.from({ length: 3000 }, (_, i) => span(i, i % 2 ? `${i} ${'x'.repeat(1500)}` : `${i} ${'€'.repeat(700)}`));
    const messages = encodeSpanBatches(encode, spans, 2);
    expect(messages.length).toBeGreaterThan(20);
    for (const m of messages) expect(recordBytes(m)).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(sorted(messages.flatMap((m) => spansOf(decode(m))))).toEqual(sorted(spans));
  });

  it("the limit is the broker's: a span whose record is exactly MAX_RECORD_BYTES goes alone, one byte more refuses the request (413) naming the span", () => {
    const single = (length: number) => span(1, 'x'.repeat(length));
    const size = (length: number) => recordBytes(encodeSpanBatches(encode, [single(length)], 1)[0]!);
    const length = 500_000 + MAX_RECORD_BYTES - size(500_000); // the text's length prefix is 3 bytes from 16k to 2M
    expect(size(length)).toBe(MAX_RECORD_BYTES);

    const fits = encodeSpanBatches(encode, [span(0), single(length)], 1);
    expect(fits.map(recordBytes)).toEqual([expect.any(Number), MAX_RECORD_BYTES]);

    let refused: unknown;
    try {
      encodeSpanBatches(encode, [span(0), single(length + 1)], 1);
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({
      code: 'payload_too_large',
      status: 413,
      details: [{ kind: 'spans', index: 1, bytes: MAX_RECORD_BYTES + 1, limit: MAX_RECORD_BYTES }],
    });
    expect(String((refused as Error).message)).toContain('nothing was written');
  });
});
