import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { cutBySize, entriesOf, halveStreams, partitionStreams, serviceHash, streamsOf, toLogBatch } from './log-batch.ts';
import { partitionOf, TOPICS, type LogBatch, type LogEntry } from './topics.ts';

/** Log batch records (log_batch.avsc) built from lines and read back, with no Kafka: the publisher's size rule is in platform/log-batches.test.ts. */
const T0 = Date.UTC(2026, 11, 1);
const line = (service: string, t: number, message: string, labels: Record<string, string> = { pod: `${service}-1` }, tenant = 'acme'): LogEntry => ({
  tenant,
  timestamp: T0 + t,
  level: message.startsWith('E') ? 'error' : 'info',
  message,
  service,
  labels,
});
const type = avro.Type.forSchema(JSON.parse(TOPICS.logBatches.schema));
const throughAvro = (b: LogBatch) => type.fromBuffer(type.toBuffer(b)) as LogBatch;
const roundTrip = (entries: LogEntry[], partitions = 3) =>
  partitionStreams(streamsOf(entries), partitions).flatMap((g) => entriesOf(throughAvro(toLogBatch(g.streams))));
const byContent = (es: LogEntry[]) => [...es].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('log batch records', () => {
  const lines = [
    line('checkout', 0, 'GET /cart 200'),
    line('cart', 5, 'ERROR upstream timeout'),
    line('checkout', 10, 'ERROR card declined'),
    line('checkout', 20, 'GET /cart 200', { pod: 'checkout-2' }),
    line('cart', -3_000, 'late but kept', { pod: 'cart-1' }),
  ];

  it('give back every line, through Avro, with its level, labels and time', () => {
    expect(byContent(roundTrip(lines))).toEqual(byContent(lines));
  });

  it("put a service's streams on its tenant and service key's partition, each stream once, its labels as symbol references", () => {
    const groups = partitionStreams(streamsOf(lines), 7);
    for (const g of groups) for (const s of g.streams) expect(partitionOf(`${s.tenant}\u0000${s.service}`, 7)).toBe(g.partition);
    expect(serviceHash('acme', 'checkout') % 7).toBe(partitionOf('acme\u0000checkout', 7));
    expect(groups.flatMap((g) => g.streams)).toHaveLength(3);
    expect(streamsOf(lines).map((s) => [s.service, s.labels.pod, s.messages.length])).toEqual([
      ['checkout', 'checkout-1', 2],
      ['cart', 'cart-1', 2],
      ['checkout', 'checkout-2', 1],
    ]);
    const checkout = groups.find((g) => g.streams.some((s) => s.service === 'checkout'))!;
    const batch = toLogBatch(checkout.streams.filter((s) => s.service === 'checkout'));
    expect(batch.symbols).toEqual(['checkout', 'pod', 'checkout-1', 'checkout-2']);
    expect(batch.streams).toEqual([
      { service_ref: 0, labels_refs: [1, 2], entry_count: 2 },
      { service_ref: 0, labels_refs: [1, 3], entry_count: 1 },
    ]);
    expect([batch.base_timestamp, batch.timestamps, batch.levels]).toEqual([T0, [0, 10, 20], ['info', 'error', 'info']]);
    expect(TOPICS.logBatches.key(batch)).toBe('acme\u0000checkout');
  });

  it('tell streams apart by content, not by object: equal labels in new objects are one stream, the request index of each line kept', () => {
    const streams = streamsOf([line('api', 0, 'a', { zone: 'b' }), line('api', 1, 'b', { zone: 'c' }), line('api', 2, 'c', { zone: 'b' })]);
    expect(streams.map((s) => [s.labels.zone, s.items])).toEqual([
      ['b', [0, 2]],
      ['c', [1]],
    ]);
  });

  it('keep tenants apart: one group per tenant and partition', () => {
    const groups = partitionStreams(streamsOf([line('api', 0, 'x', {}, 'acme'), line('api', 0, 'x', {}, 'other')]), 1);
    expect(groups.map((g) => g.streams.map((s) => s.tenant))).toEqual([['acme'], ['other']]);
  });

  it('cut by size into groups within the budget, a stream continuing in the next, nothing lost or reordered; a lone line over it alone', () => {
    const text = (n: number) => 'x'.repeat(n);
    const many = Array.from({ length: 50 }, (_, i) => line(i % 3 === 0 ? 'api' : 'web', i, `${i} ${text(90)}`));
    const groups = cutBySize(streamsOf(many), 1000);
    expect(groups.length).toBeGreaterThan(5);
    for (const g of groups) expect(g.flatMap((s) => s.messages).reduce((n, m) => n + m.length + 16, 0)).toBeLessThan(1000);
    const back = groups.flatMap((g) => g.flatMap((s) => s.items));
    expect(back.slice().sort((a, b) => a - b)).toEqual(many.map((_, i) => i));
    const big = cutBySize(streamsOf([line('api', 0, 'small'), line('api', 1, text(5000)), line('api', 2, 'small')]), 1000);
    expect(big.map((g) => g.flatMap((s) => s.items))).toEqual([[0], [1], [2]]);
  });

  it('halve by streams, then a lone stream by lines, never below one line', () => {
    const [one] = streamsOf([line('api', 0, 'a'), line('api', 1, 'b'), line('api', 2, 'c')]);
    const [left, right] = halveStreams([one!])!;
    expect([left!.flatMap((s) => s.messages), right!.flatMap((s) => s.messages)]).toEqual([['a', 'b'], ['c']]);
    expect(halveStreams(right!)).toBeUndefined();
    const several = streamsOf([line('a', 0, 'x'), line('b', 0, 'x'), line('c', 0, 'x')]);
    expect(halveStreams(several)!.map((h) => h.map((s) => s.service))).toEqual([['a', 'b'], ['c']]);
  });

  it('keep a label named __proto__ a label when read back', () => {
    const labels = Object.fromEntries([
      ['__proto__', 'x'],
      ['pod', 'p'],
    ]);
    const [back] = roundTrip([line('api', 0, 'hello', labels)]);
    expect(Object.keys(back!.labels)).toEqual(['__proto__', 'pod']);
    expect(Object.getPrototypeOf(back!.labels)).toBe(Object.prototype);
  });

  it('refuse a level the gateway would never send (the enum is the normalised six)', () => {
    expect(() => type.toBuffer(toLogBatch(streamsOf([{ ...line('api', 0, 'x'), level: 'WARNING' }])))).toThrow(/invalid/);
  });
});
