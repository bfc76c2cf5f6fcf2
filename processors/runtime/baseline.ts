import { errorFunction } from 'simple-statistics';
import type { AnomalySeverity } from '../../lib/severity.ts';

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
 *  - `smallSampleCorrection`: a baseline of 20 samples knows its centre and
 *    scale only roughly, and the raw z of a new sample has heavier tails than
 *    a normal one (measured: with MAD, 17× the normal rate of |z| > 4 over the
 *    first 240 samples of Gaussian noise). The raw deviation is read as a
 *    Student t with the baseline's effective degrees of freedom (n − 1 for
 *    mean/std; 0.37·n for MAD, its efficiency) and mapped to the equal-tailed
 *    normal z (Wallace's approximation). Large baselines are left unchanged.
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
  smallSampleCorrection: boolean;
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
  smallSampleCorrection: true,
};

export interface Verdict {
  /** undefined while the baseline is still learning (fewer than minSamples). */
  z?: number;
  /** In [0, 1]: erf(|z|/√2), the two-sided normal confidence that the sample is unusual. 0 while learning. */
  score: number;
  anomaly: boolean;
  severity?: AnomalySeverity;
  mean: number;
  stdDev: number;
  /** The centre and scale z was measured against (median/MAD or mean/std). */
  centre: number;
  scale: number;
  /** This sample completed a level shift: the baseline restarted at the new level. */
  levelShift: boolean;
  /** Anomalies in a row on this side of the baseline, this one included (0 when not an anomaly). */
  consecutive: number;
}

/** The part of a baseline that must survive a restart, as plain JSON. */
export interface BaselineState {
  values: number[]; // oldest first, at most `window`
  streak: number; // consecutive anomalies, signed by side (+ above, − below)
  recent: number[]; // the anomalous samples of the current streak
  last?: number; // event time of the last sample judged: a copy of it (a sender's retry) or an older one is not judged again
}

export const emptyBaseline = (): BaselineState => ({ values: [], streak: 0, recent: [] });

/**
 * Derived from `values` and kept beside it, never stored: the window in sorted
 * order and running sums, so a verdict costs O(window) memmove and O(window/2)
 * for the MAD instead of a sort per sample. Rebuilt from `values` after a
 * restore, and every REBUILD_EVERY samples so float error in the sums cannot
 * build up.
 */
interface Derived {
  sorted: number[];
  sum: number;
  sumSq: number;
  updates: number;
}
const derived = new WeakMap<BaselineState, Derived>();
const REBUILD_EVERY = 10_000;

function statsOf(state: BaselineState): Derived {
  let d = derived.get(state);
  if (!d || d.updates >= REBUILD_EVERY) {
    d = { sorted: [...state.values].sort((a, b) => a - b), sum: 0, sumSq: 0, updates: 0 };
    for (const v of state.values) {
      d.sum += v;
      d.sumSq += v * v;
    }
    derived.set(state, d);
  }
  return d;
}

export function judge(state: BaselineState, value: number, cfg: DetectorConfig = DEFAULT_DETECTOR): Verdict {
  const n = state.values.length;
  const d = statsOf(state);
  const mean = n ? d.sum / n : value;
  const stdDev = n > 1 ? Math.sqrt(Math.max(0, (d.sumSq - (d.sum * d.sum) / n) / (n - 1))) : 0;
  if (n < cfg.minSamples) {
    learn(state, value, cfg);
    return { score: 0, anomaly: false, mean, stdDev, centre: mean, scale: stdDev, levelShift: false, consecutive: 0 };
  }

  let centre = mean;
  let scale = stdDev;
  if (cfg.method === 'robust') {
    centre = medianOfSorted(d.sorted);
    scale = 1.4826 * medianAbsoluteDeviation(d.sorted, centre);
  }
  scale = Math.max(scale, Math.abs(centre) * cfg.minRelativeScale, cfg.minAbsoluteScale);
  const raw = (value - centre) / scale;
  const z = cfg.smallSampleCorrection ? predictiveZ(raw, n, cfg.method) : raw;
  const abs = Math.abs(z);
  const anomaly = abs > cfg.threshold;
  const severity: AnomalySeverity | undefined = !anomaly ? undefined : abs > cfg.severity.critical ? 'critical' : abs > cfg.severity.high ? 'high' : 'medium';

  let levelShift = false;
  let consecutive = 0;
  if (!anomaly) {
    state.streak = 0;
    state.recent = [];
    learn(state, value, cfg);
  } else {
    const side = Math.sign(z);
    state.streak = Math.sign(state.streak) === side ? state.streak + side : side;
    state.recent = Math.abs(state.streak) === 1 ? [value] : [...state.recent, value];
    consecutive = Math.abs(state.streak);
    if (cfg.learnAnomalies) learn(state, value, cfg);
    if (Math.abs(state.streak) >= cfg.shiftAfter) {
      state.values = state.recent.slice(-cfg.window);
      derived.delete(state);
      state.streak = 0;
      state.recent = [];
      levelShift = true;
    }
  }
  return { z, score: errorFunction(abs / Math.SQRT2), anomaly, severity, mean, stdDev, centre, scale, levelShift, consecutive };
}

/**
 * The normal z with the same tail probability as `raw` read as a predictive
 * Student t from n samples: the centre's own uncertainty widens the band
 * (√(1 + c/n), c = 1 for the mean, π/2 for the median) and the scale's
 * uncertainty fattens the tails (df = n − 1, or 0.37·n for the MAD).
 */
function predictiveZ(raw: number, n: number, method: DetectorConfig['method']): number {
  const robust = method === 'robust';
  const df = Math.max(1, robust ? 0.37 * n : n - 1);
  const t = raw / Math.sqrt(1 + (robust ? Math.PI / 2 : 1) / n);
  return Math.sign(t) * Math.sqrt(df * Math.log1p((t * t) / df));
}

function learn(state: BaselineState, value: number, cfg: DetectorConfig): void {
  const d = statsOf(state);
  state.values.push(value);
  d.sorted.splice(lowerBound(d.sorted, value), 0, value);
  d.sum += value;
  d.sumSq += value * value;
  while (state.values.length > cfg.window) {
    const gone = state.values.shift()!;
    d.sorted.splice(lowerBound(d.sorted, gone), 1);
    d.sum -= gone;
    d.sumSq -= gone * gone;
  }
  d.updates++;
}

function lowerBound(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function medianOfSorted(s: number[]): number {
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Median of |x − m| over a sorted array, in O(log n): the w values nearest m
 * are a contiguous run s[i..i+w−1], and the w-th smallest deviation is the
 * smallest "widest deviation in the run" over all runs of length w. Runs move
 * right while s[i] + s[i+w−1] < 2m, so the best run is found by bisection.
 */
function medianAbsoluteDeviation(s: number[], m: number): number {
  const n = s.length;
  const mid = n >> 1;
  return n % 2 ? nthDeviation(s, m, mid + 1) : (nthDeviation(s, m, mid) + nthDeviation(s, m, mid + 1)) / 2;
}

function nthDeviation(s: number[], m: number, w: number): number {
  let lo = 0;
  let hi = s.length - w;
  while (lo < hi) {
    const i = (lo + hi) >> 1;
    if (s[i]! + s[i + w - 1]! < 2 * m) lo = i + 1;
    else hi = i;
  }
  return lo > 0 ? Math.min(widestDeviation(s, m, w, lo), widestDeviation(s, m, w, lo - 1)) : widestDeviation(s, m, w, lo);
}

/** The widest deviation from m in the run s[i..i+w−1]. A function of its own, not a closure: this runs per sample. */
function widestDeviation(s: number[], m: number, w: number, i: number): number {
  return Math.max(Math.abs(m - s[i]!), Math.abs(s[i + w - 1]! - m));
}
