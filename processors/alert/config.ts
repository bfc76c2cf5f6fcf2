import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';

/** Alert-rule evaluation settings from ALERT_* variables; unknown ones are refused. */
const schema = z.strictObject({
  /** How often the rules are re-read from ClickHouse: a rule created through the API applies within this. */
  ALERT_RULES_REFRESH_SECONDS: z.coerce.number().positive().default(5),
  /** How often anomaly rules are checked against the wall clock, so a quiet service's alert resolves. */
  ALERT_SWEEP_SECONDS: z.coerce.number().positive().default(30),
  /**
   * A threshold alert's series that gets no new rollup window for this long
   * (wall clock) is stale, and its alert resolves. Prometheus's 5 minutes:
   * five 1-minute windows missed is no scrape hiccup. Not scaled by the
   * rule's `for`, which says how long a condition must hold, not how sparse
   * its data may be; the cooldown guards against a stale-then-back flap.
   */
  ALERT_STALENESS_SECONDS: z.coerce.number().positive().default(300),
});

export function alertConfig(env: NodeJS.ProcessEnv = process.env): { refreshMs: number; sweepMs: number; staleMs: number } {
  const c = schema.parse(variablesWithPrefix(env, 'ALERT_'));
  return { refreshMs: c.ALERT_RULES_REFRESH_SECONDS * 1000, sweepMs: c.ALERT_SWEEP_SECONDS * 1000, staleMs: c.ALERT_STALENESS_SECONDS * 1000 };
}
