import { z } from 'zod';
import { ollamaHost, variablesWithPrefix } from '../../lib/config.ts';

/**
 * The analyst's settings: OLLAMA_HOST (the variable Ollama's own CLI reads)
 * and ANALYZE_* variables, unknown ones refused. The timeout bounds each
 * model call; past it the rule-based analysis answers, so it is also the
 * longest an incident waits for its first analysis.
 */
const schema = z.strictObject({
  ANALYZE_MODEL: z.string().min(1).default('llama3.2:3b'),
  ANALYZE_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  ANALYZE_RETRIES: z.coerce.number().int().min(0).max(5).default(1),
  ANALYZE_MAX_CONTEXT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(16 * 1024),
  /** Incidents analysed at once by one process: model calls are slow, and a batch should not wait for them one by one. */
  ANALYZE_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** The prompt the analyst renders: its version tagged `production`, unless an experiment assigns another. */
  ANALYZE_PROMPT: z.string().min(1).default('incident-analysis'),
});

export interface AnalyzeConfig {
  ollamaHost: string;
  model: string;
  timeoutMs: number;
  retries: number;
  maxContextBytes: number;
  concurrency: number;
  promptName: string;
  /** AUTOPILOT_SELF_TENANT: the analyst's own model calls become agent events of this tenant (agent 'autopilot-analyst'). */
  selfTenant: string | undefined;
}

export function analyzeConfig(env: NodeJS.ProcessEnv = process.env): AnalyzeConfig {
  const c = schema.parse(variablesWithPrefix(env, 'ANALYZE_'));
  return {
    ollamaHost: ollamaHost(env),
    model: c.ANALYZE_MODEL,
    timeoutMs: c.ANALYZE_TIMEOUT_MS,
    retries: c.ANALYZE_RETRIES,
    maxContextBytes: c.ANALYZE_MAX_CONTEXT_BYTES,
    concurrency: c.ANALYZE_CONCURRENCY,
    promptName: c.ANALYZE_PROMPT,
    selfTenant: env.AUTOPILOT_SELF_TENANT || undefined,
  };
}
