import type { DetectorConfig } from '../runtime/detector.ts';
import { detectorConfig } from '../runtime/detector-config.ts';

/** DETECT_* (see runtime/detector-knobs.ts, shared with error-rate and `autopilot detect`). */
export type DetectConfig = DetectorConfig;
export const detectConfig = (env: NodeJS.ProcessEnv): DetectConfig => detectorConfig(env);
