import { AutopilotError } from '../../lib/errors.ts';

/**
 * Records per second per tenant, as a token bucket holding one second's worth.
 * In memory: each gateway replica enforces its share. A batch either fits whole
 * or is refused whole with 429 and the seconds to wait.
 */
export class TenantRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perSecond: number) {}

  take(tenant: string, records: number, now = Date.now()): void {
    if (this.perSecond <= 0) return;
    const b = this.buckets.get(tenant) ?? { tokens: this.perSecond, at: now };
    b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(tenant, b);
    if (records > this.perSecond) {
      throw new AutopilotError('rate_limited', `batch of ${records} records exceeds the tenant limit of ${this.perSecond} records/s; split it`, {
        retryAfter: 1,
      });
    }
    if (b.tokens < records) {
      const wait = Math.ceil((records - b.tokens) / this.perSecond);
      throw new AutopilotError('rate_limited', `tenant over its limit of ${this.perSecond} records/s`, { retryAfter: wait });
    }
    b.tokens -= records;
  }

  /**
   * Takes the tokens, then runs `work` (the publish); when it fails they go
   * back. A request Kafka never acknowledged has not used its tenant's quota:
   * charged anyway, the sender's retry after the 503 met a 429, which
   * Prometheus does not retry by default, so it dropped those samples.
   */
  async spend<T>(tenant: string, records: number, work: () => Promise<T>): Promise<T> {
    this.take(tenant, records);
    try {
      return await work();
    } catch (err) {
      const b = this.buckets.get(tenant);
      if (b) b.tokens = Math.min(this.perSecond, b.tokens + records);
      throw err;
    }
  }
}
