import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { SharedDecodes } from './shared-decodes.ts';

const message = (offset: number, bytes = 'abc', timestamp = '1000'): KafkaMessage =>
  ({ offset: String(offset), value: Buffer.from(bytes), timestamp, key: null, attributes: 0, headers: {} }) as KafkaMessage;

describe('SharedDecodes', () => {
  it('decodes a record once for every reader, and again if the record at that offset is another', async () => {
    const shared = new SharedDecodes(100);
    let decodes = 0;
    const decode = async () => ({ n: ++decodes });
    const first = await shared.get('t', 0, message(5), decode, () => 1);
    expect(await shared.get('t', 0, message(5), decode, () => 1)).toBe(first);
    expect(decodes).toBe(1);
    await shared.get('t', 1, message(5), decode, () => 1); // another partition
    await shared.get('t', 0, message(5, 'abcd'), decode, () => 1); // same offset, other bytes (a topic made again)
    await shared.get('t', 0, message(5, 'abc', '2000'), decode, () => 1);
    expect(decodes).toBe(4);
  });

  it('forgets records two generations of `capacity` items old', async () => {
    const shared = new SharedDecodes(10);
    let decodes = 0;
    const decode = async () => ({ n: ++decodes });
    await shared.get('t', 0, message(0), decode, () => 10); // fills the young generation
    await shared.get('t', 0, message(1), decode, () => 10); // the first is old now, still found
    await shared.get('t', 0, message(0), decode, () => 10);
    expect(decodes).toBe(2);
    await shared.get('t', 0, message(2), decode, () => 10); // the first is dropped
    await shared.get('t', 0, message(0), decode, () => 10);
    expect(decodes).toBe(4);
  });
});
