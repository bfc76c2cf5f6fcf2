import type { Redis } from 'ioredis';

/**
 * One notification per (tenant, service, reason) per cooldown, however many
 * notifier processes run.
 *
 * `SET key 1 PX ttl NX` is a single Redis command, and Redis executes
 * commands one at a time: of any number of processes racing for the same
 * key, exactly one finds it absent and sets it (reply OK), every other one
 * finds it present (reply nil). The expiry is set by that same command, so
 * there is no window in which the key exists without a TTL (as there would
 * be with SETNX then PEXPIRE, where a crash in between leaves a cooldown
 * that never ends). The key expires by itself after `ttlMs`, and then the
 * next notification goes out.
 *
 * A Redis error is thrown to the caller, which decides whether to notify
 * anyway (a duplicate) or hold back (a possible miss).
 */
export class Cooldown {
  constructor(
    private readonly redis: Redis,
    private readonly namespace = 'autopilot',
  ) {}

  /** True when this caller may notify now (and starts the cooldown); false while a cooldown runs. */
  async tryAcquire(tenant: string, service: string, reason: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return (await this.redis.set(this.keyOf(tenant, service, reason), '1', 'PX', ttl, 'NX')) === 'OK';
  }

  /** Parts are URI-encoded so "a:b" + "c" and "a" + "b:c" cannot share a key. */
  keyOf(tenant: string, service: string, reason: string): string {
    return `${this.namespace}:notify:cooldown:${[tenant, service, reason].map(encodeURIComponent).join(':')}`;
  }
}
