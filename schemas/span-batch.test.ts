import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { cutBySize, halveSpans, msOf, nsOf, partitionSpans, spansOf, toSpanBatch } from './span-batch.ts';
import { partitionOf, TOPICS, type Span, type SpanBatch } from './topics.ts';

/**
 * Span batch records (span_batch.avsc) built from spans and read back, with
 * no Kafka: the publisher's size rule is in platform/span-batches.test.ts.
 * Before span batches there was no span record at all: every test here fails
 * on the code before it.
 */
const T0 = Date.UTC(2026, 11, 1);
const NS = 1_000_000;
const resource = { 'service.name': 'checkout', 'host.name': 'web-1' };
const span = (i: number, over: Partial<Span> = {}): Span => ({
  tenant: 'acme',
  trace_id: `${(i % 5).toString(16).padStart(2, '0')}${'ab'.repeat(15)}`,
  span_id: (i + 1).toString(16).padStart(16, '0'),
  parent_span_id: i % 5 === 0 ? '' : '00000000000000ff',
  trace_state: '',
  name: `op ${i % 3}`,
  kind: 'Server',
  service: 'checkout',
  resource_attributes: resource,
  scope_name: 'shop',
  scope_version: '1.0',
  span_attributes: { 'http.route': `/item/${i}` },
  start_time_unix_nano: (T0 + i) * NS + 123_456 * (i % 7),
  duration_ns: 1_500_000 + i,
  status_code: i % 4 === 0 ? 'Error' : 'Unset',
  status_message: '',
  events: i % 2 ? [{ time_unix_nano: (T0 + i + 1) * NS, name: 'retry', attributes: { attempt: String(i) } }] : [],
  links: i % 3 ? [] : [{ trace_id: 'ff'.repeat(16), span_id: 'ee'.repeat(8), trace_state: 'k=v', attributes: {} }],
  ...over,
});
const type = avro.Type.forSchema(JSON.parse(TOPICS.spans.schema));
const throughAvro = (b: SpanBatch) => type.fromBuffer(type.toBuffer(b)) as SpanBatch;
const sorted = (spans: Span[]) => spans.map((s) => JSON.stringify(s)).sort();

describe('span batch records', () => {
  it('give back every span, through Avro, with its nanosecond times exactly as the double it was', () => {
    const spans = Array.from({ length: 40 }, (_, i) => span(i));
    // Epoch nanoseconds no double holds exactly nearby: the record still gives back the very double.
    spans.push(span(40, { start_time_unix_nano: T0 * NS + 3 * 256, events: [{ time_unix_nano: (T0 + 123) * NS + 456 * 256, name: 'e', attributes: {} }] }));
    const back = partitionSpans(spans, 3).flatMap((g) => spansOf(throughAvro(toSpanBatch(g.spans))));
    expect(sorted(back)).toEqual(sorted(spans));
  });

  it("put a trace's spans on its trace key's partition, each resource and scope once per record, keyed by the first span's trace", () => {
    const spans = Array.from({ length: 30 }, (_, i) => span(i, i % 2 ? {} : { resource_attributes: { ...resource }, scope_version: '2.0' }));
    const groups = partitionSpans(spans, 4);
    for (const g of groups) for (const s of g.spans) expect(partitionOf(`acme\u0000${s.trace_id}`, 4)).toBe(g.partition);
    const batch = toSpanBatch(spans);
    // Two resources by content (the copies of the map are one), however the spans interleave.
    expect(batch.resources.map((r) => [r.scope_version, r.span_count])).toEqual([
      ['2.0', 15],
      ['1.0', 15],
    ]);
    expect(batch.base_timestamp).toBe(T0);
    expect(batch.spans[0]!.start_ns).toBe(0);
    // The record's second span is span 2 (the first resource's): 2.246912 ms after the base, to the 256 ns a double of epoch ns holds.
    expect(nsOf(batch, batch.spans[1]!.start_ns)).toBe(spans[2]!.start_time_unix_nano);
    expect(Math.abs(batch.spans[1]!.start_ns - 2_246_912)).toBeLessThanOrEqual(256);
    expect(msOf(batch, batch.spans[1]!.start_ns)).toBeCloseTo(T0 + 2.246912, 3);
    expect(TOPICS.spans.key(batch)).toBe(`acme\u0000${spans[0]!.trace_id}`);
  });

  it('keep tenants apart: one group per tenant and partition', () => {
    const groups = partitionSpans([span(0), span(0, { tenant: 'other' })], 1);
    expect(groups.map((g) => g.spans.map((s) => s.tenant))).toEqual([['acme'], ['other']]);
  });

  it('cut by size into groups within the budget, nothing lost or reordered; a lone span over it alone', () => {
    const spans = Array.from({ length: 60 }, (_, i) => span(i, { status_message: 'x'.repeat(200) }));
    const groups = cutBySize(spans, 2000);
    expect(groups.length).toBeGreaterThan(5);
    for (const g of groups) expect(type.toBuffer(toSpanBatch(g)).length).toBeLessThan(2000);
    expect(groups.flat()).toEqual(spans);
    const big = cutBySize([span(0), span(1, { name: 'y'.repeat(5000) }), span(2)], 2000);
    expect(big.map((g) => g.map((s) => s.span_id))).toEqual([[spans[0]!.span_id], [spans[1]!.span_id], [spans[2]!.span_id]]);
  });

  it('halve by spans, never below one span', () => {
    const [left, right] = halveSpans([span(0), span(1), span(2)])!;
    expect([left.length, right.length]).toEqual([2, 1]);
    expect(halveSpans(right)).toBeUndefined();
  });

  // avsc reads an Avro map by assignment, so a key named __proto__ (set to a string: ignored) is dropped, as in
  // every map of these schemas (labels, metadata); what matters is that it never becomes a prototype.
  it('read an attribute named __proto__ without touching the prototype', () => {
    const attributes = Object.fromEntries([
      ['__proto__', 'x'],
      ['k', 'v'],
    ]);
    const [back] = spansOf(throughAvro(toSpanBatch([span(0, { span_attributes: attributes })])));
    expect(back!.span_attributes).toEqual({ k: 'v' });
    expect(Object.getPrototypeOf(back!.span_attributes)).toBe(Object.prototype);
  });

  it('refuse a kind or status the enums do not name', () => {
    expect(() => type.toBuffer(toSpanBatch([span(0, { kind: 'SPAN_KIND_SERVER' as Span['kind'] })]))).toThrow(/invalid/);
    expect(() => type.toBuffer(toSpanBatch([span(0, { status_code: 'OK' as Span['status_code'] })]))).toThrow(/invalid/);
  });
});
