import type { Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.ts';
import { DeferredCommits, type Commit } from './commits.ts';

/** A consumer whose commitOffsets records each request, failing the first `failures` of them. */
function recordingConsumer(failures = 0) {
  const requests: Commit[][] = [];
  const consumer = {
    commitOffsets: async (offsets: Commit[]) => {
      await sleep(10);
      if (failures-- > 0) throw new Error('coordinator moved');
      requests.push(offsets);
    },
  } as unknown as Consumer;
  return { consumer, requests };
}
const log = createLogger('test', 'silent');
const at = (partition: number, offset: number, metadata: string | null = null): Commit => ({ topic: 't', partition, offset: String(offset), metadata });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DeferredCommits', () => {
  it('sends the latest offset of every partition in one request per interval, metadata with its offset', async () => {
    const { consumer, requests } = recordingConsumer();
    const commits = new DeferredCommits(consumer, 50, log);
    await commits.add(at(0, 10, 'a'));
    await commits.add(at(1, 5));
    await commits.add(at(0, 12, 'b'));
    expect(requests).toEqual([]);
    await sleep(80);
    expect(requests).toEqual([[at(0, 12, 'b'), at(1, 5)]]);
  });

  it('sends at once when asked (stopping), and with every add at interval 0', async () => {
    const { consumer, requests } = recordingConsumer();
    const later = new DeferredCommits(consumer, 10_000, log);
    await later.add(at(0, 3));
    await later.send();
    expect(requests).toEqual([[at(0, 3)]]);
    const now = new DeferredCommits(consumer, 0, log);
    await now.add(at(2, 7));
    expect(requests.at(-1)).toEqual([at(2, 7)]);
  });

  it('keeps a failed commit for the next send unless a later offset of its partition came meanwhile', async () => {
    const { consumer, requests } = recordingConsumer(1);
    const commits = new DeferredCommits(consumer, 10_000, log);
    await commits.add(at(0, 1));
    await commits.add(at(1, 1));
    const failing = commits.send();
    await commits.add(at(1, 4)); // while the failing request is out
    await failing;
    expect(requests).toEqual([]);
    await commits.send();
    expect(requests).toHaveLength(1);
    expect(requests[0]!.sort((a, b) => a.partition - b.partition)).toEqual([at(0, 1), at(1, 4)]);
  });

  it('drops what is pending at a rebalance: the partitions resume from their committed offsets', async () => {
    const { consumer, requests } = recordingConsumer();
    const commits = new DeferredCommits(consumer, 30, log);
    await commits.add(at(0, 9));
    commits.drop();
    await sleep(60);
    await commits.send();
    expect(requests).toEqual([]);
  });
});
