import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { Decoded } from '../runtime/processor.ts';
import { keptRecord } from './gathering.ts';

/**
 * A gathering keeps its records as their bytes, copied out of kafkajs's
 * fetch response (one Buffer per fetch, of which every message is a view):
 * a kept view held the whole response for as long as the gathering lived.
 * Before, the gathering kept the Decoded record itself (keptRecord did not
 * exist), message views and decoded value included.
 */
describe('a gathered record as the sink keeps it', () => {
  it('is the Kafka record byte for byte, in memory of its own, without the decoded value', () => {
    const text = '....key....value-bytes....trace-id....a....b....';
    const fetch = Buffer.allocUnsafeSlow(text.length); // a Buffer of its own, as a fetch response is (not Node's small-Buffer pool)
    fetch.write(text);
    const view = (from: number, to: number) => fetch.subarray(from, to);
    const message = {
      key: view(4, 7),
      value: view(11, 22),
      timestamp: '1767225600000',
      attributes: 0,
      offset: '42',
      headers: { trace: view(26, 34), many: [view(38, 39), 'text'] },
    } as unknown as KafkaMessage;
    // A header named __proto__ stays a header.
    Object.defineProperty(message.headers!, '__proto__', { value: view(43, 44), enumerable: true });
    const d: Decoded = { topic: 't', partition: 2, offset: '42', value: { big: 'decoded' }, message };

    const kept = keptRecord(d);
    expect(kept).not.toHaveProperty('value');
    expect(kept.partition).toBe(2);
    expect(kept.offset).toBe('42');
    const m = kept.message;
    expect([m.key!.toString(), m.value!.toString(), m.timestamp, m.offset]).toEqual(['key', 'value-bytes', '1767225600000', '42']);
    const headers = m.headers as Record<string, Buffer | (Buffer | string)[]>;
    expect(String(headers.trace)).toBe('trace-id');
    expect((headers.many as (Buffer | string)[]).map(String)).toEqual(['a', 'text']);
    const protoHeader = Object.getOwnPropertyDescriptor(headers, '__proto__')?.value as Buffer; // an own key, not the prototype
    expect(String(protoHeader)).toBe('b');

    // None of it is a view of the fetch response: the response can be freed, and reusing it changes nothing kept.
    const buffers = [m.key!, m.value!, headers.trace as Buffer, (headers.many as Buffer[])[0]!, protoHeader];
    for (const b of buffers) expect(b.buffer).not.toBe(fetch.buffer);
    fetch.fill(0);
    expect(m.value!.toString()).toBe('value-bytes');
  });
});
