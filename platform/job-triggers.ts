import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * "Run this job now", from the API to whichever scheduler takes it: a sorted
 * set in Redis, scored by when it was asked. Every scheduler reads it; the
 * one that claims the request (as it claims a tick) runs it and removes it.
 * The request id becomes the run's id, so the API can say which run to look
 * for.
 */
const KEY = 'scheduler:manual-runs';

export interface RunRequest {
  request_id: string;
  tenant: string;
  job_id: string;
  requested_at: number;
}

export class JobTriggers {
  constructor(private readonly redis: Redis) {}

  async request(tenant: string, jobId: string, now = Date.now()): Promise<RunRequest> {
    const r: RunRequest = { request_id: randomUUID(), tenant, job_id: jobId, requested_at: now };
    await this.redis.zadd(KEY, now, JSON.stringify(r));
    return r;
  }

  /** Requests waiting, oldest first. */
  async waiting(limit = 100): Promise<RunRequest[]> {
    const members = await this.redis.zrange(KEY, 0, String(limit - 1));
    return members.map((m) => JSON.parse(m) as RunRequest);
  }

  async remove(r: RunRequest): Promise<void> {
    await this.redis.zrem(KEY, JSON.stringify(r));
  }
}
