import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';

/** Alert-rule evaluation settings from ALERT_* variables; unknown ones are refused. */
const schema = z.strictObject({
  /** How often the rules are re-read from ClickHouse: a rule created through the API applies within this. */
  ALERT_RULES_REFRESH_SECONDS: z.coerce.number().positive().default(5),
  /** How often anomaly rules are checked against the wall clock, so a quiet service's alert resolves. */
  ALERT_SWEEP_SECONDS: z.coerce.number().positive().default(30),
});

export function alertConfig(env: NodeJS.ProcessEnv = process.env): { refreshMs: number; sweepMs: number } {
  const c = schema.parse(variablesWithPrefix(env, 'ALERT_'));
  return { refreshMs: c.ALERT_RULES_REFRESH_SECONDS * 1000, sweepMs: c.ALERT_SWEEP_SECONDS * 1000 };
}
