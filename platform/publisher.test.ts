import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, KAFKA_MESSAGE_MAX_BYTES, MAX_RECORD_BYTES, produceRequests, recordBytes } from './publisher.ts';

describe('produceRequests', () => {
  const messages = (n: number, bytes: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(bytes) }));

  it('keeps a small request in one send', () => {
    const requests = produceRequests([
      { topic: 'a', messages: messages(10, 100) },
      { topic: 'b', messages: messages(5, 100) },
    ]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.map((t) => [t.topic, t.messages.length])).toEqual([
      ['a', 10],
      ['b', 5],
    ]);
  });

  it('cuts a large request into sends under the batch limit, each topic once per send, nothing lost or reordered', () => {
    const input = [
      { topic: 'a', messages: messages(12_500, 300) },
      { topic: 'b', messages: messages(100, 300) },
    ];
    const requests = produceRequests(input);
    expect(requests.length).toBeGreaterThan(10);
    for (const r of requests) {
      expect(new Set(r.map((t) => t.topic)).size).toBe(r.length);
      for (const t of r) expect(t.messages.reduce((s, m) => s + m.value.length + m.key.length, 0)).toBeLessThanOrEqual(256 * 1024);
    }
    const keysOf = (topic: string) => requests.flatMap((r) => r.filter((t) => t.topic === topic).flatMap((t) => t.messages.map((m) => m.key)));
    expect(keysOf('a')).toEqual(input[0]!.messages.map((m) => m.key));
    expect(keysOf('b')).toEqual(input[1]!.messages.map((m) => m.key));
  });

  it('counts keys in UTF-8 bytes, and headers: a send of dead letters with large headers stays under the chunk size', () => {
    // Before, the chunker counted key.length (UTF-16 units) and no headers: these 40 records, 60 KiB each in their
    // header alone, went out as one 2.4 MB send.
    const letters = Array.from({ length: 40 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: null,
      headers: { 'autopilot-reason': 'r'.repeat(60 * 1024) },
    }));
    const requests = produceRequests([{ topic: 'dlq', messages: letters }]);
    expect(requests.length).toBeGreaterThan(8);
    for (const r of requests) expect(r[0]!.messages.reduce((s, m) => s + recordBytes(m), 0)).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(recordBytes({ key: 'é', value: null })).toBe(recordBytes({ key: 'ee', value: null }));
  });

  it('sends a record over the chunk size alone, in a request of its own', () => {
    const big = { key: 'big', value: Buffer.alloc(CHUNK_BYTES + 1) };
    const requests = produceRequests([{ topic: 'a', messages: [...messages(3, 100), big, ...messages(3, 100)] }]);
    expect(requests.map((r) => r[0]!.messages.length)).toEqual([3, 1, 3]);
  });

  it("keeps the chunk size and the largest record below Kafka's message limit", () => {
    expect(CHUNK_BYTES).toBeLessThan(MAX_RECORD_BYTES);
    expect(MAX_RECORD_BYTES).toBeLessThan(KAFKA_MESSAGE_MAX_BYTES);
  });
});
