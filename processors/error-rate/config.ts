import type { DetectorConfig } from '../runtime/detector.ts';
import { detectorConfig } from '../runtime/detector-config.ts';
import { windowConfig } from '../runtime/window-config.ts';
import type { WindowConfig } from '../runtime/windows.ts';

/**
 * Error-rate counts ERROR/FATAL lines in the rollup's event-time minutes
 * (ROLLUP_*) and judges them with the detector's knobs (DETECT_*), with a
 * floor of one error per minute (counts, not measurements, so 0 → 3 errors
 * is not a spike) and a Gaussian prior: a count above that floor has no
 * heavy tail until the service's own history shows one, so 0 → 20 errors a
 * minute is critical from the first hour, not after days of history.
 */
export interface ErrorRateConfig {
  detector: DetectorConfig;
  windows: WindowConfig;
}

export function errorRateConfig(env: NodeJS.ProcessEnv): ErrorRateConfig {
  const detector = detectorConfig(env);
  return {
    detector: { ...detector, minScale: Math.max(1, detector.minScale), minRelativeScale: 0, priorDf: Number.POSITIVE_INFINITY },
    windows: windowConfig(env),
  };
}
