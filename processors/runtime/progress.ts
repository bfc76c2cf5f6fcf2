import type { Admin, Kafka } from 'kafkajs';
import { describeError } from '../../lib/errors.ts';
import type { HealthCheck } from '../../lib/health.ts';
import type { Logger } from '../../lib/log.ts';
import type { RuntimeConfig } from './config.ts';
import type { ProcessorTelemetry } from './telemetry.ts';

/**
 * Where a processor's partitions stand, read from Kafka rather than from the
 * batches it happens to get: a paused or stuck partition gets no batches, and
 * lag computed per batch froze at its last good value (a stuck sink read 0).
 *
 * Every `lagIntervalMs` the committed offsets and high watermarks of the
 * partitions this member owns are read. Lag = high watermark − position, the
 * position being the next offset processed (a processor that commits behind
 * its position to keep open windows, like rollup, is not lagging for that).
 * A partition that has had lag, and made no progress, for `stallAfterMs` is stalled: the
 * gauge says so, the counter counts it once, and readiness fails naming it.
 */
export class PartitionProgress {
  private owned = new Map<string, { topic: string; partition: number; since: number }>();
  private readonly next = new Map<string, bigint>();
  private readonly progressAt = new Map<string, number>();
  private readonly behindSince = new Map<string, number>();
  private readonly stalled = new Map<string, string>();

  constructor(
    private readonly name: string,
    private readonly groupId: string,
    private readonly telemetry: ProcessorTelemetry,
    private readonly log: Logger,
    private readonly cfg: RuntimeConfig,
  ) {}

  /** The partitions this member owns now (on every group join). */
  assign(assignment: Record<string, number[]>): void {
    const now = Date.now();
    const owned = new Map<string, { topic: string; partition: number; since: number }>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const key = `${topic}/${partition}`;
        owned.set(key, this.owned.get(key) ?? { topic, partition, since: now });
      }
    }
    for (const key of this.owned.keys()) if (!owned.has(key)) this.forget(key);
    this.owned = owned;
  }

  /** Whether this member owns the partition now. */
  owns(topic: string, partition: number): boolean {
    return this.owned.has(`${topic}/${partition}`);
  }

  /** A batch was written and committed: `nextOffset` is the first offset not yet processed. */
  processed(topic: string, partition: number, nextOffset: bigint): void {
    const key = `${topic}/${partition}`;
    this.next.set(key, nextOffset);
    this.progressAt.set(key, Date.now());
  }

  /** One reading of lag for every owned partition; updates the gauges and the stalled set. */
  async measure(admin: Admin): Promise<void> {
    const topics = [...new Set([...this.owned.values()].map((o) => o.topic))];
    if (topics.length === 0) return;
    const high = new Map<string, bigint>();
    const committed = new Map<string, bigint>();
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) high.set(`${topic}/${p.partition}`, BigInt(p.high));
    }
    for (const t of await admin.fetchOffsets({ groupId: this.groupId, topics })) {
      for (const p of t.partitions) if (p.offset !== '-1') committed.set(`${t.topic}/${p.partition}`, BigInt(p.offset));
    }
    const now = Date.now();
    for (const [key, { topic, partition, since }] of this.owned) {
      const h = high.get(key);
      if (h === undefined) continue;
      const position = [this.next.get(key), committed.get(key)].reduce<bigint>((a, b) => (b !== undefined && b > a ? b : a), 0n);
      const lag = h > position ? Number(h - position) : 0;
      const labels = { processor: this.name, topic, partition: String(partition) };
      this.telemetry.lag.set(labels, lag);
      // Behind since the first reading that saw lag: a quiet partition that just got a record is not stalled.
      if (lag === 0) this.behindSince.delete(key);
      else if (!this.behindSince.has(key)) this.behindSince.set(key, now);
      const idleMs = now - Math.max(this.behindSince.get(key) ?? now, this.progressAt.get(key) ?? since);
      const isStalled = lag > 0 && idleMs > this.cfg.stallAfterMs;
      this.telemetry.stalled.set(labels, isStalled ? 1 : 0);
      if (isStalled && !this.stalled.has(key)) {
        this.telemetry.stalls.inc({ processor: this.name, topic });
        this.log.error({ topic, partition, lag, idleMs }, 'partition stalled: records behind and no progress');
      }
      if (isStalled) this.stalled.set(key, `${key} has made no progress for ${Math.round(idleMs / 1000)} s with ${lag} records behind`);
      else this.stalled.delete(key);
    }
  }

  /** Readiness: fails while any owned partition is stalled, naming them. */
  healthCheck(): HealthCheck {
    return {
      name: `processor ${this.name}`,
      check: async () => {
        if (this.stalled.size) throw new Error([...this.stalled.values()].join('; '));
      },
    };
  }

  private forget(key: string): void {
    this.next.delete(key);
    this.progressAt.delete(key);
    this.behindSince.delete(key);
    this.stalled.delete(key);
  }
}

/** Reads lag on a timer until stopped. */
export function watchProgress(kafka: Kafka, progress: PartitionProgress, cfg: RuntimeConfig, log: Logger): { stop(): Promise<void> } {
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let connected: Promise<void> | undefined;
  const tick = async () => {
    try {
      connected ??= admin.connect();
      await connected;
      await progress.measure(admin);
    } catch (err) {
      connected = undefined;
      log.warn({ err: describeError(err) }, 'could not read consumer lag');
    }
    if (!stopped) timer = setTimeout(tick, cfg.lagIntervalMs);
  };
  timer = setTimeout(tick, 0); // lag is known from the start: a scrape right after start sees every partition
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await admin.disconnect().catch(() => undefined);
    },
  };
}
