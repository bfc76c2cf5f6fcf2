import type { AnomalySeverity } from '../../lib/severity.ts';

/**
 * The anomaly detector: one small model per series, updated sample by
 * sample, and a verdict on each sample before it is learned. Pure and
 * synchronous: the stream processor and `autopilot detect` run this same
 * code, so what a user tunes on their history is what runs live.
 *
 * Two stages, each there because the evaluation harness (npm run
 * bench:detect) showed it pays on production-like series:
 *
 * 1. Expectation and surprise. The expected value is a level plus a
 *    time-of-day profile (24 hourly offsets, interpolated), a robust
 *    Holt-Winters: what a sample deviates by is clipped at `huber` scales
 *    before it is learned, so a spike does not drag the level or the
 *    profile. The residual is scaled by a slow robust scale (mean absolute
 *    residual) that cannot collapse: it is floored by the series' quantum
 *    (the typical size of a change between samples, for integer gauges and
 *    step-like series) and by a fraction of the level. surprise = |residual| / scale.
 *    A level shift (`shiftAfter` surprising samples in a row on one side)
 *    moves the level to the new one at once and keeps the rest of the model:
 *    no restart from a handful of samples.
 * 2. Calibration. What a surprise means differs by series (a heavy-tailed
 *    latency sees |z| = 4 every day; a smooth gauge never does), so each
 *    series keeps a histogram of its own surprises (log-spaced bins,
 *    forgetting with a half-life of `memory` samples) and a sample's
 *    p-value is the share of that history at least as surprising, blended
 *    with a Gaussian prior of weight `priorWeight` so a young series and a
 *    surprise beyond anything seen still get a graded answer. An alarm is a
 *    p-value under `alarmP` (about that share of samples on a series that
 *    behaves as it always has), once per event: after an alarm, the next
 *    `refractory` samples do not alarm again.
 *
 * anomaly_score = S / (S + 1) with S = −log10(p): monotone in p, 0.8 at the
 * default alarm (p = 1e-4), and distinct up to p = 1e-300, so the top of the
 * scale still ranks.
 *
 * State is a fixed Float64Array (STATE_LENGTH numbers, under 1 KB): what
 * Redis holds and what memory holds per series.
 */
export interface DetectorConfig {
  /** Samples learned before the first verdict. */
  minSamples: number;
  /** Alarm when the sample's p-value is below this. */
  alarmP: number;
  /** p-value at or below which an anomaly is high (between this and alarmP it is medium). */
  highP: number;
  /** p-value at or below which an anomaly is critical. */
  criticalP: number;
  /** How fast the level follows the series, per sample. */
  levelRate: number;
  /** How fast an hour's offset learns, per sample that falls in it; 0 = no time-of-day profile. */
  seasonRate: number;
  /** How fast the scale follows, per sample. */
  scaleRate: number;
  /** Deviations beyond this many scales are clipped before they are learned. */
  huber: number;
  /** Surprising samples in a row, on one side, that make a level shift. */
  shiftAfter: number;
  /** The surprise that counts towards a level shift, and towards an event lasting. */
  shiftSurprise: number;
  /** Surprising samples in a row that make a raised event sustained (reported once more). */
  sustainAfter: number;
  /** Scale floor as a fraction of |level|. */
  minRelativeScale: number;
  /**
   * Scale floor in the series' own unit (1 for counts of errors per minute: 0 → 3 is not a spike); 0 for none.
   * With one, a series' first move is measured in it; without, a series that never moved has no scale.
   */
  minScale: number;
  /** Scale floor as a fraction of the series' quantum (typical nonzero step between samples). */
  quantumScale: number;
  /** Half-life, in samples, of the surprise history. */
  memory: number;
  /** Weight, in samples, of the prior in the p-value. */
  priorWeight: number;
  /** The prior's tail: a Student t with this many degrees of freedom (fewer: heavier), fewer while the series is young. */
  priorDf: number;
  /** Samples after an alarm that do not alarm again. */
  refractory: number;
  /** How much an anomaly counts in the surprise history, against 1 for an ordinary sample (the rest of its event: 0). */
  alarmWeight: number;
  /** Tail shares the power-law tail is drawn through, beyond the second of which p-values are extrapolated. */
  tailQuantiles: [number, number];
}

export const DEFAULT_DETECTOR: DetectorConfig = {
  minSamples: 10,
  alarmP: 1e-4,
  highP: 1e-6,
  criticalP: 1e-8,
  levelRate: 0.05,
  seasonRate: 0.05,
  scaleRate: 0.01,
  huber: 3,
  shiftAfter: 6,
  shiftSurprise: 3,
  sustainAfter: 2,
  minRelativeScale: 0.001,
  minScale: 0,
  quantumScale: 0.5,
  memory: 20_000,
  priorWeight: 50,
  priorDf: 5,
  refractory: 30,
  alarmWeight: 0.1,
  tailQuantiles: [0.01, 0.002],
};

export interface Verdict {
  /** In [0, 1): S / (S + 1), S = −log10(p). 0 while learning. */
  score: number;
  /** The sample's p-value under the series' own history (1 while learning). */
  p: number;
  /**
   * The p-value of the event this sample reports: its own for a raised anomaly, the event's lowest for a
   * sustained one (whose own sample may be less surprising than the one that raised it). Severity follows it.
   */
  eventP: number;
  anomaly: boolean;
  severity?: AnomalySeverity;
  /** Signed residual in scales (undefined while learning). */
  z?: number;
  /** What the model expected, and its scale. */
  expected: number;
  scale: number;
  /** This sample completed a level shift: the level moved to the new one. */
  levelShift: boolean;
  /**
   * The event raised by an earlier anomaly has lasted (`sustainAfter`
   * surprising samples in a row): the processor reports it once more, as
   * sustained, with the event's severity. Correlation opens incidents on
   * sustained trouble, not on a single odd sample.
   */
  sustained: boolean;
  /** Surprising samples in a row on this side, this one included (0 when this one is not surprising). */
  consecutive: number;
}

// --- state layout ---------------------------------------------------------------------------------------------

const HOURS = 24;
/** Surprise histogram: bins of log2(surprise) from LOG_MIN, BIN_WIDTH wide; the last bin is open. */
const BINS = 64;
const LOG_MIN = -4;
const BIN_WIDTH = 0.25;

const N = 0; // samples seen
const LEVEL = 1;
const SCALE = 2;
const QUANTUM = 3;
const LAST_VALUE = 4;
const LAST_TIME = 5;
const STREAK = 6; // surprising samples in a row, signed by side
const SHIFT_SUM = 7; // sum of the streak's residuals
const QUIET_UNTIL = 8; // sample count until which no new alarm is raised
const HIST_WEIGHT = 9; // the weight the next sample is added with (grows instead of decaying every bin)
const HIST_TOTAL = 10;
const MEAN = 11; // learning: Welford mean and M2
const M2 = 12;
const EVENT_P = 13; // the lowest p-value of the current event (since its alarm)
const EVENT_SUSTAINED = 14; // 1 once the current event has been reported as sustained
const SEASON = 15;
const HIST = SEASON + HOURS;
export const STATE_LENGTH = HIST + BINS;

export type DetectorState = Float64Array;

/** The event time of the last sample observed (−∞ before the first): a copy of it, or an older one, is not observed again. */
export const lastTimeOf = (s: DetectorState): number => s[LAST_TIME]!;

/** A state that had only learned `last` (from a format that cannot be carried over): fresh, but it remembers where it was. */
export function stateAt(last: number): DetectorState {
  const s = emptyState();
  s[LAST_TIME] = last;
  return s;
}

export const emptyState = (): DetectorState => {
  const s = new Float64Array(STATE_LENGTH);
  s[HIST_WEIGHT] = 1;
  s[LAST_TIME] = Number.NEGATIVE_INFINITY;
  return s;
};

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The time-of-day offset at t: the two nearest hours' offsets, interpolated. */
function seasonAt(s: DetectorState, t: number): number {
  const h = (((t % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  const i = Math.floor(h);
  const f = h - i;
  return s[SEASON + i]! * (1 - f) + s[SEASON + ((i + 1) % HOURS)]! * f;
}

function learnSeason(s: DetectorState, t: number, deviation: number, rate: number): void {
  const h = (((t % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  const i = Math.floor(h);
  const f = h - i;
  s[SEASON + i] = s[SEASON + i]! + rate * (1 - f) * deviation;
  const j = SEASON + ((i + 1) % HOURS);
  s[j] = s[j]! + rate * f * deviation;
}

const binOf = (surprise: number) => {
  if (!(surprise > 0)) return 0;
  const b = (Math.log2(surprise) - LOG_MIN) / BIN_WIDTH;
  return b < 0 ? 0 : b >= BINS ? BINS - 1 : Math.floor(b);
};

/** Chebyshev coefficients of erfc (Numerical Recipes' erfcc): relative error under 1.2e-7 everywhere, tails included. */
const ERFC = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];

/** Two-sided Gaussian tail, P(|Z| ≥ z) = erfc(z/√2): accurate far out, where 1 − erf(x) would round to 0. */
function gaussianTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  let poly = 0;
  for (let i = ERFC.length - 1; i >= 0; i--) poly = ERFC[i]! + t * poly;
  return t * Math.exp(-x * x + poly);
}

/** The share of the series' surprise history at or above `surprise` (within its bin, linearly), blended with the prior. */
function pValue(s: DetectorState, surprise: number, cfg: DetectorConfig): number {
  const b = binOf(surprise);
  let above = 0;
  for (let i = b + 1; i < BINS; i++) above += s[HIST + i]!;
  const within = s[HIST + b]!;
  if (b < BINS - 1 && surprise > 0) {
    const lo = LOG_MIN + b * BIN_WIDTH;
    const frac = (Math.log2(surprise) - lo) / BIN_WIDTH; // how far into its bin
    above += within * (1 - Math.min(1, Math.max(0, frac)));
  } else if (b === BINS - 1) {
    above += within * 0.5;
  } else {
    above += within;
  }
  const total = s[HIST_TOTAL]!;
  const weight = s[HIST_WEIGHT]!;
  const history = historyOf(s);
  const prior = cfg.priorWeight;
  const empirical = Math.min(1, (above / weight + prior * gaussianTail(predictiveZ(surprise, s[N]!, cfg.priorDf))) / (history + prior));
  if (history * cfg.tailQuantiles[1] < 2) return empirical;
  // Past what the history can say (a new record is no rarer than one in `history`), the tail is extrapolated.
  const [q1, q2] = cfg.tailQuantiles;
  // Within the history's top share q2 or below it (what `above` already says): no extrapolation, no bin walk.
  if (above >= q2 * total) return empirical;
  const t2 = surpriseAt(s, q2 * total);
  if (!(surprise > t2)) return empirical;
  const t1 = surpriseAt(s, q1 * total);
  return Math.max(empirical, paretoTail(surprise, t1, q1, t2, q2));
}

/**
 * The normal z with the tail of `z` read as a Student t with n − 1 degrees
 * of freedom (Wallace's approximation): a young series knows its scale only
 * roughly, so its prior is wider; past a few hundred samples this is z.
 */
function predictiveZ(z: number, n: number, maxDf: number): number {
  const df = Math.max(1, Math.min(maxDf, n - 1));
  const t = z / Math.sqrt(1 + 1 / Math.max(1, n));
  return Math.sqrt(df * Math.log1p((t * t) / df));
}

/** The surprise history's size in samples: bins hold weights that grow by 1/decay per sample, so divide by the current one. */
const historyOf = (s: DetectorState) => s[HIST_TOTAL]! / s[HIST_WEIGHT]!;

/** The surprise above which `mass` of the history lies (log-interpolated within its bin). */
function surpriseAt(s: DetectorState, mass: number): number {
  let above = 0;
  for (let i = BINS - 1; i >= 0; i--) {
    const m = s[HIST + i]!;
    if (above + m >= mass) {
      const frac = m > 0 ? (mass - above) / m : 0; // how far down into bin i
      return 2 ** (LOG_MIN + (i + 1 - frac) * BIN_WIDTH);
    }
    above += m;
  }
  return 2 ** LOG_MIN;
}

/**
 * A power-law tail through (t1, q1) and (t2, q2), read at x > t2: the
 * shape of the series' own upper tail carried past its largest surprises.
 * Its index is held between 1 (no tail heavier than 1/x, so two nearby
 * quantiles cannot make everything beyond them ordinary) and MAX_TAIL_INDEX
 * (a point mass, t1 = t2 on a quantised series, has nothing beyond it: a
 * steep tail, not an infinitely steep one).
 */
const MAX_TAIL_INDEX = 10;
function paretoTail(x: number, t1: number, q1: number, t2: number, q2: number): number {
  const index = t2 > t1 ? Math.min(MAX_TAIL_INDEX, Math.max(1, Math.log(q1 / q2) / Math.log(t2 / t1))) : MAX_TAIL_INDEX;
  return q2 * (x / t2) ** -index;
}

function remember(s: DetectorState, surprise: number, weight: number, cfg: DetectorConfig): void {
  const w = s[HIST_WEIGHT]!;
  const bin = HIST + binOf(surprise);
  s[bin] = s[bin]! + w * weight;
  s[HIST_TOTAL] = s[HIST_TOTAL]! + w * weight;
  // Forgetting: instead of shrinking every bin each sample, the next sample weighs more.
  s[HIST_WEIGHT] = w * 2 ** (1 / cfg.memory);
  if (s[HIST_WEIGHT]! > 1e100) {
    // Rescale before the weights overflow: the same history, in smaller numbers.
    const k = 1 / s[HIST_WEIGHT]!;
    for (let i = 0; i < BINS; i++) s[HIST + i] = s[HIST + i]! * k;
    s[HIST_TOTAL] = s[HIST_TOTAL]! * k;
    s[HIST_WEIGHT] = 1;
  }
}

/**
 * Quantum: the typical nonzero step between samples (an integer gauge: 1; a
 * step-like series: its step), a floor for a scale that would otherwise
 * collapse on a series that mostly repeats itself. Steps far above it count
 * as at most 4 quanta, so a burst cannot make the next one look ordinary.
 */
function learnQuantum(s: DetectorState, step: number): void {
  if (!(step > 0)) return;
  const q = s[QUANTUM]!;
  s[QUANTUM] = q === 0 ? step : q + 0.02 * (Math.min(step, 4 * q) - q);
}

/** anomaly_score: S / (S + 1) with S = −log10 p (p floored at 1e-300). */
export function scoreOf(p: number): number {
  const S = -Math.log10(Math.max(p, 1e-300));
  return S / (S + 1);
}

function severityOf(p: number, cfg: DetectorConfig): AnomalySeverity {
  return p <= cfg.criticalP ? 'critical' : p <= cfg.highP ? 'high' : 'medium';
}

export function observe(s: DetectorState, timestamp: number, value: number, cfg: DetectorConfig = DEFAULT_DETECTOR): Verdict {
  const n = s[N]!;
  const step = n > 0 ? Math.abs(value - s[LAST_VALUE]!) : 0;
  s[LAST_VALUE] = value;
  s[LAST_TIME] = timestamp;
  s[N] = n + 1;

  if (n < cfg.minSamples) {
    learnQuantum(s, step);
    // Learning: mean and spread by Welford; the level and scale start from them.
    const d = value - s[MEAN]!;
    s[MEAN] = s[MEAN]! + d / (n + 1);
    s[M2] = s[M2]! + d * (value - s[MEAN]!);
    if (n + 1 === cfg.minSamples) {
      s[LEVEL] = s[MEAN]!;
      s[SCALE] = Math.sqrt(s[M2]! / Math.max(1, n));
    }
    return { score: 0, p: 1, eventP: 1, anomaly: false, expected: s[MEAN]!, scale: 0, levelShift: false, sustained: false, consecutive: 0 };
  }

  const expected = s[LEVEL]! + (cfg.seasonRate > 0 ? seasonAt(s, timestamp) : 0);
  const scale = Math.max(s[SCALE]!, Math.abs(s[LEVEL]!) * cfg.minRelativeScale, s[QUANTUM]! * cfg.quantumScale, cfg.minScale, 1e-12);
  const residual = value - expected;
  const z = residual / scale;
  const surprise = Math.abs(z);
  // A series that has never moved, with no unit given, has no scale to measure its first move by: by the rule of
  // succession, after n samples that all repeated, a change has a chance of about 1 in n + 2. Its surprise, measured against no
  // scale, is not remembered either: it would stand in the history as a tail the series never had.
  const firstMove = s[QUANTUM] === 0 && step > 0 && cfg.minScale === 0;
  const p = firstMove ? Math.max(pValue(s, surprise, cfg), 1 / (n + 2)) : pValue(s, surprise, cfg);

  const alarmable = p < cfg.alarmP;
  const inEvent = n < s[QUIET_UNTIL]!;
  const anomaly = alarmable && !inEvent;
  if (alarmable) s[QUIET_UNTIL] = n + cfg.refractory;
  if (anomaly || !inEvent) s[EVENT_P] = p;
  else s[EVENT_P] = Math.min(s[EVENT_P]!, p);

  // Level shift: a run of surprising samples on one side is the new level, not a string of anomalies.
  let levelShift = false;
  const side = Math.sign(residual);
  if (surprise >= cfg.shiftSurprise) {
    if (Math.sign(s[STREAK]!) === side) {
      s[STREAK] = s[STREAK]! + side;
      s[SHIFT_SUM] = s[SHIFT_SUM]! + residual;
    } else {
      s[STREAK] = side;
      s[SHIFT_SUM] = residual;
    }
  } else {
    s[STREAK] = 0;
    s[SHIFT_SUM] = 0;
  }
  const consecutive = Math.abs(s[STREAK]!);
  const lasting = consecutive >= cfg.sustainAfter;
  const sustained = inEvent && !anomaly && lasting && s[EVENT_SUSTAINED] === 0;
  if (anomaly || sustained) s[EVENT_SUSTAINED] = lasting ? 1 : 0;
  if (consecutive >= cfg.shiftAfter) {
    s[LEVEL] = s[LEVEL]! + s[SHIFT_SUM]! / consecutive;
    s[STREAK] = 0;
    s[SHIFT_SUM] = 0;
    levelShift = true;
  } else {
    const clipped = Math.max(-cfg.huber * scale, Math.min(cfg.huber * scale, residual));
    s[LEVEL] = s[LEVEL]! + cfg.levelRate * clipped;
    if (cfg.seasonRate > 0) learnSeason(s, timestamp, clipped, cfg.seasonRate);
    // Mean absolute residual × √(π/2): the standard deviation, for Gaussian noise.
    s[SCALE] = s[SCALE]! + cfg.scaleRate * (Math.abs(clipped) * 1.2533 - s[SCALE]!);
  }
  // An anomaly is remembered faintly, once per event (its alarm; the surprising samples after it are the same
  // event), and never as more than half of what would make its like ordinary (alarmP of the history): a series
  // learns that such things happen once they have happened about three times; a second incident like the
  // first is still an anomaly, however young the series.
  const anomalous = alarmable || (inEvent && surprise >= cfg.shiftSurprise);
  const faint = Math.min(cfg.alarmWeight, 0.5 * cfg.alarmP * (historyOf(s) + cfg.priorWeight));
  remember(s, surprise, firstMove ? 0 : anomaly ? faint : anomalous ? 0 : 1, cfg);
  // Learned after the verdict, like the rest: the step into a spike must not widen the scale that judges it.
  if (!anomalous) learnQuantum(s, step);
  const eventP = sustained ? s[EVENT_P]! : p;

  return {
    score: scoreOf(p),
    eventP,
    p,
    anomaly,
    severity: anomaly || sustained ? severityOf(eventP, cfg) : undefined,
    z,
    expected,
    scale,
    levelShift,
    sustained,
    consecutive,
  };
}
