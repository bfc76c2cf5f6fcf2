import { setTimeout as sleepFor } from 'node:timers/promises';

/**
 * The wait between retries, for every retry loop: the nth wait's ceiling is
 * initial·2ⁿ, capped at max, spread below it by the jitter.
 *
 * Jitter, by what the loop needs: `full` (random in [0, ceiling]) spreads many
 * retriers the most, for the consume loop's rewound partitions; `equal` (half
 * fixed, half random) keeps each wait growing while still spreading, for
 * notification deliveries; `none` waits the ceiling itself, for one caller
 * retrying on its own (the model, the services at start).
 */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** Default `full`. */
  jitter?: 'full' | 'equal' | 'none';
}

export interface BackoffOptions {
  /** The least to wait, as a server's Retry-After asks; still no more than `maxMs`. */
  atLeastMs?: number | null;
  random?: () => number;
}

/** The wait before retry `attempt` (0 after the first failure). */
export function backoffDelay(attempt: number, b: Backoff, opts: BackoffOptions = {}): number {
  const random = opts.random ?? Math.random;
  const ceiling = Math.min(b.maxMs, b.initialMs * 2 ** attempt);
  const jitter = b.jitter ?? 'full';
  const wait = jitter === 'full' ? random() * ceiling : jitter === 'equal' ? ceiling / 2 + (random() * ceiling) / 2 : ceiling;
  return opts.atLeastMs == null ? wait : Math.min(b.maxMs, Math.max(wait, opts.atLeastMs));
}

/** Sleeps the wait before retry `attempt`; `sleep` is injectable so tests can record the waits instead. */
export async function backOff(attempt: number, b: Backoff, opts: BackoffOptions & { sleep?: (ms: number) => Promise<unknown> } = {}): Promise<void> {
  await (opts.sleep ?? sleepFor)(backoffDelay(attempt, b, opts));
}
