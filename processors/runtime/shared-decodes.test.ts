import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { SharedDecodes } from './shared-decodes.ts';

const message = (offset: number, bytes = 'abc', timestamp = '1000'): KafkaMessage =>
  ({ offset: String(offset), value: Buffer.from(bytes), timestamp, key: null, attributes: 0, headers: {} }) as KafkaMessage;

describe('SharedDecodes', () => {
  it('decodes a record once for every reader, and again if the record at that offset is another', async () => {
    const shared = new SharedDecodes(1000);
    let decodes = 0;
    const decode = async () => ({ n: ++decodes });
    const first = await shared.get('t', 0, message(5), decode);
    expect(await shared.get('t', 0, message(5), decode)).toBe(first);
    expect(decodes).toBe(1);
    await shared.get('t', 1, message(5), decode); // another partition
    await shared.get('t', 0, message(5, 'abcd'), decode); // same offset, other bytes (a topic made again)
    await shared.get('t', 0, message(5, 'abc', '2000'), decode);
    expect(decodes).toBe(4);
  });

  it('forgets records two generations of `capacityBytes` old', async () => {
    const shared = new SharedDecodes(3); // each record's 3 bytes fill a generation
    let decodes = 0;
    const decode = async () => ({ n: ++decodes });
    await shared.get('t', 0, message(0), decode); // fills the young generation
    await shared.get('t', 0, message(1), decode); // the first is old now, still found
    await shared.get('t', 0, message(0), decode);
    expect(decodes).toBe(2);
    await shared.get('t', 0, message(2), decode); // the first is dropped
    await shared.get('t', 0, message(0), decode);
    expect(decodes).toBe(4);
  });
});
