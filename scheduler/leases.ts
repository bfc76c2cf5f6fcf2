import type { Redis } from 'ioredis';

/**
 * Leases in Redis, the one place every scheduler process agrees on:
 *
 * - a tick's claim (`tick`), SET NX with this process as owner: the one that
 *   sets it runs the tick. Renewed while the run lasts; when the run's record
 *   is on Kafka it becomes `done:<run id>` and is kept past the grace period,
 *   so a scheduler started later does not catch the tick up again. A claim
 *   whose owner died expires after the lease, and the tick is free again.
 * - a job's `running` lock, held for the length of a run: another tick of the
 *   same job finds it taken and is skipped or waits (the job's overlap).
 *
 * Renewing, finishing and releasing check the owner in one script: a lease
 * that expired and was taken by another process is never touched.
 */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const REPLACE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export const DONE = 'done:';

export class Leases {
  constructor(
    private readonly redis: Redis,
    /** Who this process is (host:pid:random), the value of its claims. */
    readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  /** True when this process now holds `key`; false when another holds it or it is done. */
  async claim(key: string): Promise<boolean> {
    return (await this.redis.set(key, this.owner, 'PX', this.leaseMs, 'NX')) === 'OK';
  }

  /** What holds `key`: null (free), `done:<run id>`, or another owner. */
  holder(key: string): Promise<string | null> {
    return this.redis.get(key);
  }

  /** Keeps a held lease for another lease period; false when it was lost (expired and taken). */
  async renew(key: string): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, key, this.owner, this.leaseMs)) === 1;
  }

  /** Marks a held claim done for `keepMs`: the tick ran and its record is on Kafka. */
  async finish(key: string, runId: string, keepMs: number): Promise<boolean> {
    return (await this.redis.eval(REPLACE, 1, key, this.owner, `${DONE}${runId}`, keepMs)) === 1;
  }

  async release(key: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, key, this.owner);
  }
}

/** Key names, under one prefix per deployment (SCHEDULER keys share Redis with the processors' state). */
export const leaseKeys = {
  tick: (tenant: string, jobId: string, at: number) => `scheduler:${tenant}:${jobId}:tick:${at}`,
  manual: (tenant: string, jobId: string, requestId: string) => `scheduler:${tenant}:${jobId}:manual:${requestId}`,
  running: (tenant: string, jobId: string) => `scheduler:${tenant}:${jobId}:running`,
  state: (tenant: string, jobId: string) => `scheduler:${tenant}:${jobId}:state`,
};
