export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 200, maxMs: 10_000 };

/** Exponential backoff with full jitter: the nth wait is random in [0, min(max, initial·2ⁿ)]. */
export function backoffDelay(attempt: number, b: Backoff = DEFAULT_BACKOFF): number {
  return Math.random() * Math.min(b.maxMs, b.initialMs * 2 ** attempt);
}
