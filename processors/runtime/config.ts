import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';

/** How the consume loop retries and when it calls a partition stalled; PROCESSOR_* variables, unknown ones refused. */
export interface RuntimeConfig {
  /** Attempts at a batch failing with an unknown error before its records are dead-lettered (transient errors retry forever). */
  maxAttempts: number;
  /** Longest wait between two attempts at a failed batch. */
  maxBackoffMs: number;
  /** A partition with records behind and no progress for this long is stalled: not ready, and counted. */
  stallAfterMs: number;
  /** How often lag is read from Kafka (committed offsets against high watermarks). */
  lagIntervalMs: number;
  /**
   * How often a processor with state in Redis (detect) writes it, with the
   * offset it reflects; its Kafka commit stays at that offset, so a restart
   * replays at most this much. Per batch, every touched series was rewritten
   * each time: at 50,000 samples/s that was most of detect's work.
   */
  checkpointMs: number;
  /** Offset commits of a consumer go together at most this often (0: with each batch); see commits.ts. */
  commitEveryMs: number;
}

export const DEFAULT_RUNTIME: RuntimeConfig = {
  maxAttempts: 8,
  maxBackoffMs: 30_000,
  stallAfterMs: 120_000,
  lagIntervalMs: 5000,
  checkpointMs: 2000,
  commitEveryMs: 500,
};

const schema = z.strictObject({
  PROCESSOR_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(DEFAULT_RUNTIME.maxAttempts),
  PROCESSOR_MAX_BACKOFF_MS: z.coerce.number().int().min(10).default(DEFAULT_RUNTIME.maxBackoffMs),
  PROCESSOR_STALL_AFTER_MS: z.coerce.number().int().min(100).default(DEFAULT_RUNTIME.stallAfterMs),
  PROCESSOR_LAG_INTERVAL_MS: z.coerce.number().int().min(100).default(DEFAULT_RUNTIME.lagIntervalMs),
  PROCESSOR_CHECKPOINT_MS: z.coerce.number().int().min(0).default(DEFAULT_RUNTIME.checkpointMs),
  PROCESSOR_COMMIT_EVERY_MS: z.coerce.number().int().min(0).default(DEFAULT_RUNTIME.commitEveryMs),
});

export function runtimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const c = schema.parse(variablesWithPrefix(env, 'PROCESSOR_'));
  return {
    maxAttempts: c.PROCESSOR_MAX_ATTEMPTS,
    maxBackoffMs: c.PROCESSOR_MAX_BACKOFF_MS,
    stallAfterMs: c.PROCESSOR_STALL_AFTER_MS,
    lagIntervalMs: c.PROCESSOR_LAG_INTERVAL_MS,
    checkpointMs: c.PROCESSOR_CHECKPOINT_MS,
    commitEveryMs: c.PROCESSOR_COMMIT_EVERY_MS,
  };
}
