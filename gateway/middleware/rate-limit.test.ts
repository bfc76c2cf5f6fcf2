import { describe, expect, it } from 'vitest';
import type { AutopilotError } from '../../lib/errors.ts';
import { TenantRateLimiter } from './rate-limit.ts';

describe('tenant rate limiter', () => {
  it('lets a second’s worth through, refuses more with 429 and a wait, and refills with time', () => {
    const limiter = new TenantRateLimiter(1000);
    limiter.take('a', 600, 0);
    limiter.take('a', 400, 0);
    const err = (() => {
      try {
        limiter.take('a', 500, 0);
      } catch (e) {
        return e as AutopilotError;
      }
    })();
    expect(err?.status).toBe(429);
    expect(err?.retryAfter).toBe(1);
    limiter.take('b', 1000, 0); // tenants have their own buckets
    limiter.take('a', 500, 500); // half a second refills half the bucket
  });

  it('refuses a batch larger than the limit outright, and 0 means unlimited', () => {
    expect(() => new TenantRateLimiter(100).take('a', 101, 0)).toThrow(/split it/);
    expect(() => new TenantRateLimiter(0).take('a', 1e9, 0)).not.toThrow();
  });

  it('gives the tokens back when the publish fails: a retry after a 503 is not refused for the attempt that wrote nothing', async () => {
    const limiter = new TenantRateLimiter(1000);
    await expect(limiter.spend('a', 1000, async () => Promise.reject(new Error('Kafka down')))).rejects.toThrow('Kafka down');
    await expect(limiter.spend('a', 1000, async () => 'sent')).resolves.toBe('sent');
    await expect(limiter.spend('a', 1000, async () => 'sent')).rejects.toThrow(/over its limit/);
  });
});
