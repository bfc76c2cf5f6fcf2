import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';
import { DEFAULT_WINDOWS, type WindowConfig } from './windows.ts';

/**
 * Event-time window settings from ROLLUP_* variables (unknown ones are refused,
 * not ignored): the rollup's windows, and the minutes error-rate counts in.
 */
const schema = z.strictObject({
  ROLLUP_WINDOW_MS: z.coerce.number().int().min(1000).default(DEFAULT_WINDOWS.windowMs),
  ROLLUP_LATENESS_MS: z.coerce.number().int().min(0).default(DEFAULT_WINDOWS.latenessMs),
  ROLLUP_RELATIVE_ACCURACY: z.coerce.number().gt(0).max(0.05).default(DEFAULT_WINDOWS.relativeAccuracy),
});

export function windowConfig(env: NodeJS.ProcessEnv = process.env): WindowConfig {
  const c = schema.parse(variablesWithPrefix(env, 'ROLLUP_'));
  return { windowMs: c.ROLLUP_WINDOW_MS, latenessMs: c.ROLLUP_LATENESS_MS, relativeAccuracy: c.ROLLUP_RELATIVE_ACCURACY };
}
