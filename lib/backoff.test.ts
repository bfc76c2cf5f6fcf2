import { describe, expect, it } from 'vitest';
import { backOff, backoffDelay } from './backoff.ts';

describe('backoff', () => {
  it('backs off exponentially with jitter, capped', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const d = backoffDelay(attempt, { initialMs: 100, maxMs: 1000 });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** attempt));
    }
  });

  // The shapes the retry loops had before they shared this (notify's equal jitter, the model's
  // and the service wait's plain doubling or steady step): a change here changes their waits.
  it('spreads by the jitter asked for', () => {
    const b = { initialMs: 100, maxMs: 1000 };
    expect([0, 1, 4].map((n) => backoffDelay(n, b, { random: () => 0.5 }))).toEqual([50, 100, 500]);
    expect([0, 1, 4].map((n) => backoffDelay(n, { ...b, jitter: 'equal' }, { random: () => 0 }))).toEqual([50, 100, 500]);
    expect([0, 1, 4].map((n) => backoffDelay(n, { ...b, jitter: 'equal' }, { random: () => 1 }))).toEqual([100, 200, 1000]);
    expect([0, 1, 2, 10].map((n) => backoffDelay(n, { initialMs: 250, maxMs: Infinity, jitter: 'none' }))).toEqual([250, 500, 1000, 256_000]);
    expect([0, 7].map((n) => backoffDelay(n, { initialMs: 1000, maxMs: 1000, jitter: 'none' }))).toEqual([1000, 1000]);
  });

  it('waits at least what the server asks, never past the cap', () => {
    const b = { initialMs: 100, maxMs: 10_000, jitter: 'equal' } as const;
    expect(backoffDelay(0, b, { atLeastMs: 3000, random: () => 0 })).toBe(3000);
    expect(backoffDelay(0, b, { atLeastMs: 60_000, random: () => 0 })).toBe(10_000);
    expect(backoffDelay(0, b, { atLeastMs: null, random: () => 0 })).toBe(50);
  });

  it('sleeps the wait it computes', async () => {
    const waits: number[] = [];
    await backOff(2, { initialMs: 10, maxMs: 1000, jitter: 'none' }, { sleep: async (ms) => void waits.push(ms) });
    expect(waits).toEqual([40]);
  });
});
