import type { Redis } from 'ioredis';

/**
 * One notification per (tenant, service, reason) per cooldown, however many
 * notifier processes run; the cooldown is held by the notice (the analysis
 * or alert record) that took it.
 *
 * `SET key <notice> PX ttl NX GET` is a single Redis command (Redis ≥ 7.0),
 * and Redis executes commands one at a time: of any number of processes
 * racing for the same key, exactly one finds it absent and sets it (reply
 * nil), every other one gets the holder back. The expiry is set by that same
 * command, so there is no window in which the key exists without a TTL (as
 * there would be with SETNX then PEXPIRE, where a crash in between leaves a
 * cooldown that never ends). The key expires by itself after `ttlMs`, and
 * then the next notification goes out.
 *
 * The holder is named so that a crash between taking the cooldown and
 * delivering does not lose the notification: the same notice, replayed after
 * the restart, finds itself the holder and still delivers. (Whether it
 * already did is FinishedDeliveries' business.)
 *
 * A Redis error is thrown to the caller, which decides whether to notify
 * anyway (a duplicate) or hold back (a possible miss).
 */
export class Cooldown {
  constructor(
    private readonly redis: Redis,
    private readonly namespace = 'autopilot',
  ) {}

  /** True when `noticeId` may notify now: it starts the cooldown or already holds it; false while another notice holds it. */
  async claim(tenant: string, service: string, reason: string, noticeId: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const holder = await this.redis.set(this.keyOf(tenant, service, reason), noticeId, 'PX', ttl, 'NX', 'GET');
    return holder === null || holder === noticeId;
  }

  /** Parts are URI-encoded so "a:b" + "c" and "a" + "b:c" cannot share a key. */
  keyOf(tenant: string, service: string, reason: string): string {
    return `${this.namespace}:notify:cooldown:${[tenant, service, reason].map(encodeURIComponent).join(':')}`;
  }
}
