/**
 * What the harness drives: one online detector per series, fed samples in
 * time order, each answered before the next is seen (as live). A candidate
 * detector is a factory with a config; the harness makes a fresh one per
 * series through `Contender.create`.
 */
import { DEFAULT_DETECTOR, emptyState, observe, type DetectorConfig } from '../../processors/runtime/detector.ts';

export interface Verdict {
  /** Higher = more unusual. Only its order matters: the threshold sweep reads it, whatever its scale. */
  score: number;
  /** The detector's own decision at its live threshold. */
  anomaly: boolean;
}

export interface OnlineDetector {
  observe(timestamp: number, value: number): Verdict;
}

export type DetectorFactory<C> = (config: C) => OnlineDetector;

export interface Contender {
  name: string;
  /** One line: what it is and where its threshold sits. */
  rule: string;
  create(): OnlineDetector;
}

/**
 * The live detector: the processor's and `autopilot detect`'s `observe` on a state of its own. Score = the
 * `anomaly_score` `autopilot detect` writes; alarms = what the processor emits (an event when it is raised, and
 * once more when it lasts). Only the module's exported API is used. (The processor also skips a sample at or
 * before the last judged timestamp; corpus timestamps strictly increase, so that never applies here.)
 */
export const liveDetector: DetectorFactory<DetectorConfig> = (config) => {
  const state = emptyState();
  return {
    observe(timestamp, value) {
      const v = observe(state, timestamp, value, config);
      return { score: v.score, anomaly: v.anomaly || v.sustained };
    },
  };
};

export interface TextbookConfig {
  window: number;
  minSamples: number;
  threshold: number;
}

/** The classic rule the issue measures against: mean and standard deviation of the last 1000 samples, |z| > 2.5. */
export const TEXTBOOK: TextbookConfig = { window: 1000, minSamples: 10, threshold: 2.5 };

/**
 * The textbook rule written out on its own (not `judge` with options, which may change under it): every sample is
 * learned, no level-shift restart, no small-sample correction, no scale floor (a flat window makes any change an
 * infinite z). Score = |z|, unbounded, so the sweep has resolution at the top. Mean and variance are kept with
 * Welford's update and downdate, stable where a sum of squares would cancel (a disk at 200 GB moving by MBs).
 */
export const textbookDetector: DetectorFactory<TextbookConfig> = (config) => {
  const ring: number[] = [];
  let head = 0; // the oldest value once the ring is full
  let mean = 0;
  let m2 = 0; // sum of squared deviations from the mean
  /** Welford: fold x in (or out) so that mean and m2 describe `count` values afterwards. */
  const add = (x: number, count: number) => {
    const d = x - mean;
    mean += d / count;
    m2 += d * (x - mean);
  };
  const remove = (x: number, count: number) => {
    const d = x - mean;
    mean -= d / count;
    m2 = Math.max(0, m2 - d * (x - mean));
  };
  return {
    observe(_timestamp, value) {
      const n = ring.length;
      let verdict: Verdict = { score: 0, anomaly: false };
      if (n >= config.minSamples) {
        const std = Math.sqrt(m2 / (n - 1));
        const z = std > 0 ? Math.abs(value - mean) / std : value === mean ? 0 : Infinity;
        verdict = { score: z, anomaly: z > config.threshold };
      }
      if (n < config.window) {
        ring.push(value);
        add(value, n + 1);
      } else {
        remove(ring[head]!, n - 1);
        add(value, n);
        ring[head] = value;
        head = (head + 1) % n;
      }
      return verdict;
    },
  };
};

/** Settings to try without editing code: DETECT_CONFIG='{"alarmP":1e-5}' npm run bench:detect. */
const overrides = JSON.parse(process.env.DETECT_CONFIG ?? '{}') as Partial<DetectorConfig>;

export const CONTENDERS: Contender[] = [
  {
    name: 'live',
    rule: `processors/runtime/detector.ts observe() with DEFAULT_DETECTOR${Object.keys(overrides).length ? ` and ${JSON.stringify(overrides)}` : ''} (alarm at p < ${DEFAULT_DETECTOR.alarmP}); score = anomaly_score`,
    create: () => liveDetector({ ...DEFAULT_DETECTOR, ...overrides }),
  },
  {
    name: 'textbook',
    rule: `mean/std of the last ${TEXTBOOK.window} samples, |z| > ${TEXTBOOK.threshold}; score = |z|`,
    create: () => textbookDetector(TEXTBOOK),
  },
];
