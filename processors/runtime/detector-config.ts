import { variablesWithPrefix } from '../../lib/config.ts';
import type { DetectorConfig } from './detector.ts';
import { detectorConfigFrom } from './detector-knobs.ts';

/**
 * Detector settings from DETECT_* variables: the knobs of `autopilot detect
 * --help` (detector-knobs.ts), DETECT_ALARM_P for --alarm-p; an unknown one
 * is refused. Detect's models, and error-rate's, which judge per-minute
 * counts with the same code (and its own floor, see error-rate/config.ts).
 */
export function detectorConfig(env: NodeJS.ProcessEnv = process.env): DetectorConfig {
  const values: Record<string, string | undefined> = {};
  for (const [variable, value] of Object.entries(variablesWithPrefix(env, 'DETECT_'))) values[knobName(variable)] = value;
  return detectorConfigFrom(values, variableOf);
}

const knobName = (variable: string) => variable.slice('DETECT_'.length).toLowerCase().replaceAll('_', '-');
const variableOf = (knob: string) => `DETECT_${knob.toUpperCase().replaceAll('-', '_')}`;
