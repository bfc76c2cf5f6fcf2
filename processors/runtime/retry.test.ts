import { describe, expect, it } from 'vitest';
import { backoffDelay } from './retry.ts';

describe('retry', () => {
  it('backs off exponentially with jitter, capped', () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const d = backoffDelay(attempt, { initialMs: 100, maxMs: 1000 });
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(1000, 100 * 2 ** attempt));
    }
  });
});
