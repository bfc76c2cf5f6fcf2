/**
 * Runs a contender over the corpus once, then scores its alarms as they
 * were (its live threshold) and its score at a sweep of thresholds.
 *
 * The sweep re-reads the scores of that one run (score ≥ threshold = alarm),
 * as NAB's optimiser does: it asks whether the score separates anomalies
 * from noise at all. It is not the same as running the detector at another
 * threshold, since the live detector's own alarms feed back into its state
 * (level-shift restarts); those figures are the live ones.
 */
import type { Contender } from './detectors.ts';
import { scoreSeries, summarise, type Figures } from './scoring.ts';
import { warmupOf, type Series } from './series.ts';

export interface Run {
  series: Series;
  scores: Float64Array;
  alarms: Uint8Array;
}

export function runContender(contender: Contender, corpus: Series[]): Run[] {
  return corpus.map((series) => {
    const detector = contender.create();
    const n = series.values.length;
    const run: Run = { series, scores: new Float64Array(n), alarms: new Uint8Array(n) };
    for (let i = 0; i < n; i++) {
      const v = detector.observe(series.timestamps[i]!, series.values[i]!);
      run.scores[i] = v.score;
      run.alarms[i] = v.anomaly ? 1 : 0;
    }
    return run;
  });
}

export interface Breakdown {
  overall: Figures;
  families: Record<string, Figures>;
  series: ({ name: string; family: string } & Figures)[];
}

export function breakdown(runs: Run[], alarmsOf: (run: Run) => ArrayLike<number> = (run) => run.alarms): Breakdown {
  const parts = runs.map((run) => ({ series: run.series, score: scoreSeries(run.series, alarmsOf(run)) }));
  const families: Record<string, Figures> = {};
  for (const family of new Set(runs.map((r) => r.series.family))) families[family] = summarise(parts.filter((p) => p.series.family === family));
  return {
    overall: summarise(parts),
    families,
    series: parts.map((p) => ({ name: p.series.name, family: p.series.family, ...summarise([p]) })),
  };
}

export interface SweepPoint {
  threshold: number;
  score: number | null;
  falseAlarmsPer10k: number;
  detected: number;
  windows: number;
}

/**
 * Candidate thresholds at the pooled scores' quantiles 1 − 10^−x, x = 0.5 … 5 in tenths (from the median to the
 * top 1 in 100,000), plus the highest score. Scores that tie collapse into one candidate: a score saturated at its
 * top shows here as few distinct thresholds.
 */
export function sweep(runs: Run[]): { points: SweepPoint[]; best: { threshold: number; figures: Figures } | null } {
  const pooled = Float64Array.from(runs.flatMap((r) => [...r.scores.subarray(warmupOf(r.scores.length))])).sort();
  if (!pooled.length) return { points: [], best: null };
  const candidates = new Set<number>([pooled[pooled.length - 1]!]);
  for (let x = 0.5; x <= 5.0001; x += 0.1) candidates.add(pooled[Math.min(pooled.length - 1, Math.floor((1 - 10 ** -x) * pooled.length))]!);
  const points: SweepPoint[] = [];
  let best: { threshold: number; figures: Figures } | null = null;
  for (const threshold of [...candidates].sort((a, b) => a - b)) {
    const { overall } = breakdown(runs, (run) => run.scores.map((s) => (s >= threshold ? 1 : 0)));
    points.push({ threshold, score: overall.score, falseAlarmsPer10k: overall.falseAlarmsPer10k, detected: overall.detected, windows: overall.windows });
    // Ties go to the higher threshold: as good, with fewer alarms.
    if (overall.score !== null && (!best || overall.score >= best.figures.score!)) best = { threshold, figures: overall };
  }
  return { points, best };
}

export interface Evaluation {
  name: string;
  rule: string;
  live: Breakdown;
  sweep: SweepPoint[];
  best: { threshold: number; figures: Figures } | null;
}

export function evaluate(contender: Contender, corpus: Series[]): Evaluation {
  const runs = runContender(contender, corpus);
  const { points, best } = sweep(runs);
  return { name: contender.name, rule: contender.rule, live: breakdown(runs), sweep: points, best };
}
