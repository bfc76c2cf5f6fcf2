import type { Anomaly } from '../../schemas/topics.ts';
import { scoreOf, type Verdict } from './detector.ts';

/**
 * What an anomaly record says of the detector's verdict on `value`, the same
 * for detect's samples and error-rate's per-minute counts: the expectation
 * and scale it was judged against, and the event's p-value, score and severity.
 */
export function verdictFields(
  v: Verdict,
  value: number,
): Pick<
  Anomaly,
  | 'current_value'
  | 'baseline_mean'
  | 'baseline_std_dev'
  | 'baseline_median'
  | 'z_score'
  | 'deviation_percent'
  | 'severity'
  | 'level_shift'
  | 'consecutive'
  | 'p_value'
  | 'anomaly_score'
> {
  return {
    current_value: value,
    baseline_mean: v.expected,
    baseline_std_dev: v.scale,
    baseline_median: v.expected,
    z_score: v.z!,
    deviation_percent: v.expected === 0 ? 0 : ((value - v.expected) / Math.abs(v.expected)) * 100,
    severity: v.severity!,
    level_shift: v.levelShift,
    consecutive: v.consecutive,
    p_value: v.eventP,
    anomaly_score: scoreOf(v.eventP),
  };
}
