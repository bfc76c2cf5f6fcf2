import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';
import { DEFAULT_DETECTOR, type DetectorConfig } from './baseline.ts';

/**
 * Detector settings from DETECT_* variables (the same knobs as `autopilot
 * detect --help`; unknown ones are refused): detect's baselines, and
 * error-rate's, which judge per-minute counts with the same code.
 */
const d = DEFAULT_DETECTOR;
const schema = z.strictObject({
  DETECT_WINDOW: z.coerce.number().int().min(2).default(d.window),
  DETECT_MIN_SAMPLES: z.coerce.number().int().min(2).default(d.minSamples),
  DETECT_THRESHOLD: z.coerce.number().positive().default(d.threshold),
  DETECT_METHOD: z.enum(['robust', 'classic']).default(d.method),
  DETECT_SHIFT_AFTER: z.coerce.number().int().min(1).default(d.shiftAfter),
  DETECT_MIN_RELATIVE_SCALE: z.coerce.number().min(0).default(d.minRelativeScale),
});

export function detectorConfig(env: NodeJS.ProcessEnv = process.env): DetectorConfig {
  const c = schema.parse(variablesWithPrefix(env, 'DETECT_'));
  return {
    ...d,
    window: c.DETECT_WINDOW,
    minSamples: c.DETECT_MIN_SAMPLES,
    threshold: c.DETECT_THRESHOLD,
    method: c.DETECT_METHOD,
    shiftAfter: c.DETECT_SHIFT_AFTER,
    minRelativeScale: c.DETECT_MIN_RELATIVE_SCALE,
  };
}
