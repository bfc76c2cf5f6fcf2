import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';
import { ANOMALY_SEVERITIES } from '../../lib/severity.ts';
import { DEFAULT_CORRELATION, type CorrelationConfig } from './incidents.ts';

/** Correlation settings from CORRELATE_* variables, in minutes; unknown ones are refused. */
const MIN = 60_000;
const minutes = (ms: number) =>
  z.coerce
    .number()
    .positive()
    .default(ms / MIN)
    .transform((m) => m * MIN);
const schema = z.strictObject({
  CORRELATE_WINDOW_MINUTES: minutes(DEFAULT_CORRELATION.windowMs),
  CORRELATE_SUSPECT_LOOKBACK_MINUTES: minutes(DEFAULT_CORRELATION.suspectLookbackMs),
  CORRELATE_QUIET_MINUTES: minutes(DEFAULT_CORRELATION.quietPeriodMs),
  CORRELATE_COOLDOWN_MINUTES: minutes(DEFAULT_CORRELATION.cooldownMs),
  CORRELATE_MIN_SIGNALS: z.coerce.number().int().min(1).default(DEFAULT_CORRELATION.minSignals),
  CORRELATE_OPEN_SEVERITY: z.enum(ANOMALY_SEVERITIES).default(DEFAULT_CORRELATION.openSeverity),
  CORRELATE_SWEEP_SECONDS: z.coerce.number().positive().default(30),
});

export function correlateConfig(env: NodeJS.ProcessEnv = process.env): CorrelationConfig & { sweepMs: number } {
  const c = schema.parse(variablesWithPrefix(env, 'CORRELATE_'));
  return {
    windowMs: c.CORRELATE_WINDOW_MINUTES,
    suspectLookbackMs: c.CORRELATE_SUSPECT_LOOKBACK_MINUTES,
    quietPeriodMs: c.CORRELATE_QUIET_MINUTES,
    cooldownMs: c.CORRELATE_COOLDOWN_MINUTES,
    minSignals: c.CORRELATE_MIN_SIGNALS,
    openSeverity: c.CORRELATE_OPEN_SEVERITY,
    sweepMs: c.CORRELATE_SWEEP_SECONDS * 1000,
  };
}
