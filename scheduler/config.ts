import { z } from 'zod';
import { ollamaHost, variablesWithPrefix } from '../lib/config.ts';
import { allowLoopbackTargets } from '../tenant-config/url-guard.ts';

/**
 * The scheduler's settings: SCHEDULER_* variables (unknown ones refused),
 * OLLAMA_HOST for extraction, and NOTIFY_ALLOW_LOOPBACK, the one rule for
 * whether an outgoing request may reach this host (probes of a local
 * service's /health need it, as local webhook receivers do).
 */
const schema = z.strictObject({
  /** How often due ticks are looked for: a tick runs at most this late. */
  SCHEDULER_TICK_MS: z.coerce.number().int().min(50).max(60_000).default(250),
  /** How often jobs are read again from ClickHouse: a new, paused or edited job takes effect within this. */
  SCHEDULER_REFRESH_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /** A tick missed while no scheduler ran is caught up if it is at most this old (only the newest missed tick of a job). */
  SCHEDULER_GRACE_MS: z.coerce.number().int().min(0).max(86_400_000).default(300_000),
  /** A claimed tick or a running job is held this long without renewal: how soon a killed scheduler's work moves on. */
  SCHEDULER_LEASE_MS: z.coerce.number().int().min(1000).max(600_000).default(15_000),
  /** Runs at once in one process. */
  SCHEDULER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** Extraction's model when the job names none. */
  SCHEDULER_MODEL: z.string().min(1).default('llama3.2:3b'),
  SCHEDULER_MODEL_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
});

export interface SchedulerConfig {
  tickMs: number;
  refreshMs: number;
  graceMs: number;
  leaseMs: number;
  concurrency: number;
  allowLoopback: boolean;
  llm: { host: string; model: string; timeoutMs: number };
}

export function schedulerConfig(env: NodeJS.ProcessEnv = process.env): SchedulerConfig {
  const c = schema.parse(variablesWithPrefix(env, 'SCHEDULER_'));
  return {
    tickMs: c.SCHEDULER_TICK_MS,
    refreshMs: c.SCHEDULER_REFRESH_MS,
    graceMs: c.SCHEDULER_GRACE_MS,
    leaseMs: c.SCHEDULER_LEASE_MS,
    concurrency: c.SCHEDULER_CONCURRENCY,
    allowLoopback: allowLoopbackTargets(env),
    llm: {
      host: ollamaHost(env),
      model: c.SCHEDULER_MODEL,
      timeoutMs: c.SCHEDULER_MODEL_TIMEOUT_MS,
    },
  };
}
