import type { DetectorConfig } from '../runtime/baseline.ts';
import { detectorConfig } from '../runtime/detector-config.ts';
import { windowConfig } from '../runtime/window-config.ts';
import type { WindowConfig } from '../runtime/windows.ts';

/**
 * Error-rate counts ERROR/FATAL lines in the rollup's event-time minutes
 * (ROLLUP_*) and judges them with the detector's knobs (DETECT_*), with a
 * floor of one error per minute: counts, not measurements, so 0 → 3 errors
 * is not a spike.
 */
export interface ErrorRateConfig {
  detector: DetectorConfig;
  windows: WindowConfig;
}

export function errorRateConfig(env: NodeJS.ProcessEnv): ErrorRateConfig {
  const detector = detectorConfig(env);
  return { detector: { ...detector, minAbsoluteScale: Math.max(1, detector.minAbsoluteScale), minRelativeScale: 0 }, windows: windowConfig(env) };
}
