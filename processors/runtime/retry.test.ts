import { describe, expect, it } from 'vitest';
import { backoffDelay, retryUntilDone } from './retry.ts';

describe('retry', () => {
  it('backs off exponentially with jitter, capped', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const d = backoffDelay(attempt, { initialMs: 100, maxMs: 1000 });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** attempt));
    }
  });

  it('keeps trying until the work succeeds, and stops only when told to', async () => {
    let calls = 0;
    const errors: number[] = [];
    const out = await retryUntilDone(
      async () => {
        if (++calls < 4) throw new Error('down');
        return 'done';
      },
      { onError: (_e, attempt) => void errors.push(attempt), shouldStop: () => false, backoff: { initialMs: 1, maxMs: 2 } },
    );
    expect(out).toBe('done');
    expect(errors).toEqual([0, 1, 2]);

    await expect(
      retryUntilDone(async () => Promise.reject(new Error('still down')), { onError: () => {}, shouldStop: () => true }),
    ).rejects.toThrow('still down');
  });
});
