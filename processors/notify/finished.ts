import type { Redis } from 'ioredis';
import type { NotificationDelivery } from '../../schemas/topics.ts';

/**
 * Seven days: Kafka's default retention. A notice older than that cannot be
 * replayed, so its mark has nothing left to guard.
 */
const FINISHED_TTL_MS = 7 * 24 * 3600_000;

/**
 * The outcome of every finished delivery (delivered, failed after its
 * retries, suppressed by the cooldown), by notice and target, written right after
 * it is known and before the batch's offset is committed. A notice replayed
 * after a crash finds its outcome here and publishes that same row again
 * instead of deciding or sending anew: a delivered notification is not sent
 * twice, and a suppressed one is not sent late because its cooldown has run
 * out meanwhile.
 *
 * The one duplicate left: a notifier killed after the receiver's 2xx and
 * before `record` (a few milliseconds, one Redis write), or a Redis failure
 * in that write; the replay then delivers again. The other way round — a
 * mark without the delivery — cannot happen, so nothing is lost.
 */
export class FinishedDeliveries {
  constructor(
    private readonly redis: Redis,
    private readonly namespace = 'autopilot',
    private readonly ttlMs = FINISHED_TTL_MS,
  ) {}

  /** The recorded outcomes of one notice's deliveries to these targets, null where none is recorded. */
  async find(tenant: string, noticeId: string, targetIds: string[]): Promise<(NotificationDelivery | null)[]> {
    if (targetIds.length === 0) return [];
    const raw = await this.redis.mget(targetIds.map((t) => this.keyOf(tenant, noticeId, t)));
    return raw.map((r) => (r === null ? null : (JSON.parse(r) as NotificationDelivery)));
  }

  async record(noticeId: string, delivery: NotificationDelivery): Promise<void> {
    await this.redis.set(this.keyOf(delivery.tenant, noticeId, delivery.target_id), JSON.stringify(delivery), 'PX', this.ttlMs);
  }

  /**
   * Per notice (the analysis or alert record), not per delivery id: two
   * analyses of one incident share a delivery id, and the second is a new
   * notice, for the cooldown to judge.
   */
  keyOf(tenant: string, noticeId: string, targetId: string): string {
    return `${this.namespace}:notify:finished:${[tenant, noticeId, targetId].map(encodeURIComponent).join(':')}`;
  }
}
