import type { DetectorConfig } from '../runtime/baseline.ts';
import { detectorConfig } from '../runtime/detector-config.ts';

/** DETECT_* (see runtime/detector-config.ts, shared with error-rate). */
export type DetectConfig = DetectorConfig;
export const detectConfig = (env: NodeJS.ProcessEnv): DetectConfig => detectorConfig(env);
