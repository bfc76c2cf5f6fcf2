import { describe, expect, it } from 'vitest';
import { produceRequests } from './publish.ts';

describe('produceRequests', () => {
  const messages = (n: number, bytes: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(bytes) }));

  it('keeps a small request in one send', () => {
    const requests = produceRequests([{ topic: 'a', messages: messages(10, 100) }, { topic: 'b', messages: messages(5, 100) }]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.map((t) => [t.topic, t.messages.length])).toEqual([['a', 10], ['b', 5]]);
  });

  it('cuts a large request into sends under the batch limit, each topic once per send, nothing lost or reordered', () => {
    const input = [{ topic: 'a', messages: messages(12_500, 300) }, { topic: 'b', messages: messages(100, 300) }];
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
});
