import type { Consumer } from 'kafkajs';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';

export interface Commit {
  topic: string;
  partition: number;
  offset: string;
  metadata: string | null;
}

/**
 * A consumer's offset commits, sent together at most every `everyMs`.
 *
 * A commit per batch was a Kafka request per partition per fetch: at 50k
 * points/s the processors process sent more OffsetCommit requests than
 * fetches, about 100 a second, each a loopback write that costs this VM
 * about 0.1 ms of CPU. Committing later never loses anything: a record
 * past the last commit is read again by the next owner, and every write is
 * keyed by content, so it counts once (the crash tests hold it to that).
 * The latest offset of a partition wins; its metadata travels with it, so a
 * checkpoint still never disagrees with its position.
 */
export class DeferredCommits {
  private readonly pending = new Map<string, Commit>();
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly consumer: Consumer,
    private readonly everyMs: number,
    private readonly log: Logger,
  ) {}

  /** Commits `c` with the next send (now, if `everyMs` is 0). */
  add(c: Commit): Promise<void> {
    this.pending.set(`${c.topic}/${c.partition}`, c);
    if (this.everyMs <= 0) return this.send();
    this.timer ??= setTimeout(() => void this.send(), this.everyMs).unref();
    return Promise.resolve();
  }

  /** Sends what is pending now, after any send in progress; a failure is logged and the commits are tried again later. */
  send(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const turn = this.sending.then(async () => {
      const batch = [...this.pending.values()];
      if (batch.length === 0) return;
      this.pending.clear();
      try {
        await this.consumer.commitOffsets(batch);
      } catch (err) {
        // Again with the next send, unless a later offset of the partition came meanwhile.
        for (const c of batch) {
          const key = `${c.topic}/${c.partition}`;
          if (!this.pending.has(key)) this.pending.set(key, c);
        }
        this.timer ??= setTimeout(() => void this.send(), Math.max(this.everyMs, 100)).unref();
        this.log.warn({ err: describeError(err), partitions: batch.length }, 'offset commit failed; tried again with the next');
      }
    });
    this.sending = turn;
    return turn;
  }

  /**
   * After a rebalance: kafkajs resumes every partition from its committed
   * offset, so commits of the old assignment are dropped, not sent under the new one.
   */
  drop(): void {
    this.pending.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
