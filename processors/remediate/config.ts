import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';

/** The remediate processor's settings from REMEDIATE_* variables; unknown ones are refused. */
const schema = z.strictObject({
  /** How often policies and actions are read again: a policy saved through the API applies within this. */
  REMEDIATE_REFRESH_SECONDS: z.coerce.number().positive().default(5),
  /** How often proposals past their expiry, and actions past their verification window, are settled. */
  REMEDIATE_SWEEP_SECONDS: z.coerce.number().positive().default(5),
});

export interface RemediateConfig {
  refreshMs: number;
  sweepMs: number;
}

export function remediateConfig(env: NodeJS.ProcessEnv = process.env): RemediateConfig {
  const c = schema.parse(variablesWithPrefix(env, 'REMEDIATE_'));
  return { refreshMs: c.REMEDIATE_REFRESH_SECONDS * 1000, sweepMs: c.REMEDIATE_SWEEP_SECONDS * 1000 };
}
