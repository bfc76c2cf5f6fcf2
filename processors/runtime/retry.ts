import { setTimeout as sleep } from 'node:timers/promises';

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 200, maxMs: 10_000 };

/** Exponential backoff with full jitter: the nth wait is random in [0, min(max, initial·2ⁿ)]. */
export function backoffDelay(attempt: number, b: Backoff = DEFAULT_BACKOFF): number {
  return Math.random() * Math.min(b.maxMs, b.initialMs * 2 ** attempt);
}

/**
 * Runs `work` until it succeeds, waiting between attempts. Gives up only when
 * `shouldStop()` says the process is shutting down: a processor never drops a
 * batch because a dependency was down for a while.
 */
export async function retryUntilDone<T>(
  work: () => Promise<T>,
  opts: { onError: (err: unknown, attempt: number) => void | Promise<void>; shouldStop: () => boolean; backoff?: Backoff },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      await opts.onError(err, attempt);
      if (opts.shouldStop()) throw err;
      await sleep(Math.max(50, backoffDelay(attempt, opts.backoff)));
    }
  }
}
