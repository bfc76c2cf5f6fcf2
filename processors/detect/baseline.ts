import { errorFunction } from 'simple-statistics';

/**
 * A learned baseline for one series, and the verdict on each new sample.
 * Pure and synchronous: the stream processor and `autopilot detect` run this
 * same code, so what a user tunes on their history is what runs live.
 *
 * The classic rule is the starting point: mean and standard deviation over the
 * last `window` samples, no verdict before `minSamples`, anomaly when
 * |z| > `threshold`. Two changes, each an option with a default:
 *  - `method: 'robust'` scores against the median and MAD (×1.4826), which a
 *    past spike cannot inflate: a second incident right after a first one is
 *    still seen, and rare outliers in a noisy series do not widen the band;
 *  - after `shiftAfter` consecutive anomalies on the same side, the series has
 *    moved to a new level: the baseline restarts from those samples instead of
 *    alarming until the old level has scrolled out of the window.
 * `learnAnomalies: false` keeps anomalous samples out of the baseline; it is
 * off by default because it narrows the band over time (the tails are never
 * learned), which the tests show as extra alarms after a level shift.
 */
export interface DetectorConfig {
  window: number;
  minSamples: number;
  threshold: number;
  severity: { medium: number; high: number; critical: number };
  method: 'robust' | 'classic';
  learnAnomalies: boolean;
  shiftAfter: number;
  /** Scale floor as a fraction of |centre|: a perfectly flat series still needs a real change to alarm. */
  minRelativeScale: number;
  /** Scale floor in the series' own unit (1 error/min for error counts, say). */
  minAbsoluteScale: number;
}

export const DEFAULT_DETECTOR: DetectorConfig = {
  window: 1000,
  minSamples: 10,
  threshold: 2.5,
  severity: { medium: 2.5, high: 3, critical: 4 },
  method: 'robust',
  learnAnomalies: true,
  shiftAfter: 8,
  minRelativeScale: 0.01,
  minAbsoluteScale: 1e-9,
};

export type Severity = 'medium' | 'high' | 'critical';

export interface Verdict {
  /** undefined while the baseline is still learning (fewer than minSamples). */
  z?: number;
  /** In [0, 1]: erf(|z|/√2), the two-sided normal confidence that the sample is unusual. 0 while learning. */
  score: number;
  anomaly: boolean;
  severity?: Severity;
  mean: number;
  stdDev: number;
  /** The centre and scale z was measured against (median/MAD or mean/std). */
  centre: number;
  scale: number;
  /** This sample completed a level shift: the baseline restarted at the new level. */
  levelShift: boolean;
}

/** The part of a baseline that must survive a restart, as plain JSON. */
export interface BaselineState {
  values: number[]; // oldest first, at most `window`
  streak: number; // consecutive anomalies, signed by side (+ above, − below)
  recent: number[]; // the anomalous samples of the current streak
}

export const emptyBaseline = (): BaselineState => ({ values: [], streak: 0, recent: [] });

export function judge(state: BaselineState, value: number, cfg: DetectorConfig = DEFAULT_DETECTOR): Verdict {
  const { values } = state;
  const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : value;
  const stdDev = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : 0;
  if (values.length < cfg.minSamples) {
    learn(state, value, cfg);
    return { score: 0, anomaly: false, mean, stdDev, centre: mean, scale: stdDev, levelShift: false };
  }

  let centre = mean;
  let scale = stdDev;
  if (cfg.method === 'robust') {
    centre = median(values);
    scale = 1.4826 * median(values.map((v) => Math.abs(v - centre)));
  }
  scale = Math.max(scale, Math.abs(centre) * cfg.minRelativeScale, cfg.minAbsoluteScale);
  const z = (value - centre) / scale;
  const abs = Math.abs(z);
  const anomaly = abs > cfg.threshold;
  const severity: Severity | undefined = !anomaly
    ? undefined
    : abs > cfg.severity.critical ? 'critical' : abs > cfg.severity.high ? 'high' : 'medium';

  let levelShift = false;
  if (!anomaly) {
    state.streak = 0;
    state.recent = [];
    learn(state, value, cfg);
  } else {
    const side = Math.sign(z);
    state.streak = Math.sign(state.streak) === side ? state.streak + side : side;
    state.recent = Math.abs(state.streak) === 1 ? [value] : [...state.recent, value];
    if (cfg.learnAnomalies) learn(state, value, cfg);
    if (Math.abs(state.streak) >= cfg.shiftAfter) {
      state.values = state.recent.slice(-cfg.window);
      state.streak = 0;
      state.recent = [];
      levelShift = true;
    }
  }
  return { z, score: errorFunction(abs / Math.SQRT2), anomaly, severity, mean, stdDev, centre, scale, levelShift };
}

function learn(state: BaselineState, value: number, cfg: DetectorConfig): void {
  state.values.push(value);
  if (state.values.length > cfg.window) state.values.splice(0, state.values.length - cfg.window);
}

function median(values: number[]): number {
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
