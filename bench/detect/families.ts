/**
 * The kinds of series the corpus holds, one function each: what a metric of
 * that kind expects at a time, how its noise is drawn, how it is quantised,
 * and which anomalies it may carry. Parameters are drawn from the series' own
 * random source, so the three variants of a family differ in level, noise,
 * length and anomalies. corpus.ts places and injects the anomalies.
 */
import { gaussian } from '../../test/helpers/random.ts';
import { T0, type AnomalyKind } from './series.ts';

export type Rng = () => number;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface AnomalyPlan {
  kind: AnomalyKind;
  /** A variance change that stays (the new normal), not a burst. */
  lasting?: boolean;
}

export interface FamilySpec {
  stepMs: number;
  days: number;
  /** Stretches of missed scrapes. */
  gaps: number;
  /** The noise's typical size in the series' unit: injected anomalies are sized in it. */
  sigma: number;
  anomalies: AnomalyPlan[];
  expected(t: number): number;
  /** One sample around mu (mu plus this family's noise). */
  draw(mu: number, r: Rng): number;
  /** Quantise or clamp as the real metric would be (integers, 0.5 °C steps, 0–100%). */
  finish?(v: number): number;
  /** What the series looks like when its seasonality breaks; by default the other half of its day (t + 12 h). */
  offSeason?(t: number): number;
}

/** What broken seasonality looks like for this family: its own offSeason, or the other half of its day. */
export const offSeasonOf = (spec: FamilySpec) => spec.offSeason ?? ((t: number) => spec.expected(t + 12 * HOUR));

export interface Family {
  name: string;
  make(r: Rng): FamilySpec;
}

// --- shapes -------------------------------------------------------------------------------------------------------

const hourOfDay = (t: number) => (t % DAY) / HOUR;
const weekend = (t: number) => [0, 6].includes(new Date(t).getUTCDay());
/** 0 at the daily trough, 1 at `peak` o'clock; a higher power gives flatter nights. */
const daily = (t: number, peak: number, power = 2) => ((1 + Math.cos((2 * Math.PI * (hourOfDay(t) - peak)) / 24)) / 2) ** power;
const between = (r: Rng, a: number, b: number) => a + (b - a) * r();
/** An integer in [a, b]. */
const int = (r: Rng, a: number, b: number) => a + Math.floor(r() * (b - a + 1));
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const roundTo = (v: number, step: number) => Math.round(v / step) * step;

function poisson(mu: number, r: Rng): number {
  if (mu > 30) return Math.max(0, Math.round(mu + Math.sqrt(mu) * gaussian(r)));
  const limit = Math.exp(-mu);
  let k = 0;
  for (let p = r(); p > limit; p *= r()) k++;
  return k;
}

/**
 * Student t with 4 degrees of freedom: finite variance, yet about 6 draws in 10,000 beyond 10 scale units, so a
 * detector that reads a normal tail alarms on ordinary days. (3 degrees would put some 21 there: a judgement that
 * heavy tails should be a hazard of the corpus, not its main feature.)
 */
const studentT4 = (r: Rng) => gaussian(r) / Math.sqrt((gaussian(r) ** 2 + gaussian(r) ** 2 + gaussian(r) ** 2 + gaussian(r) ** 2) / 4);

/** `count` distinct kinds, in random order. */
function pick(r: Rng, kinds: AnomalyKind[], count: number): AnomalyPlan[] {
  const pool = [...kinds];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count).map((kind) => ({ kind }));
}

// --- families -----------------------------------------------------------------------------------------------------

/** Requests per minute of a web service: afternoon peak, quieter weekends, overdispersed counts. */
function webRequests(r: Rng): FamilySpec {
  const base = between(r, 200, 2000);
  const peak = between(r, 13, 17);
  return {
    stepMs: MINUTE,
    days: int(r, 7, 9),
    gaps: 1,
    sigma: 2 * Math.sqrt(base),
    anomalies: pick(r, ['spike', 'dip', 'broken-seasonality'], int(r, 2, 3)),
    expected: (t) => base * (0.2 + 0.8 * daily(t, peak)) * (weekend(t) ? 0.6 : 1),
    draw: (mu, r) => mu + 2 * Math.sqrt(mu) * gaussian(r),
    finish: (v) => Math.max(0, Math.round(v)),
  };
}

/** p99 latency in ms: multiplicative heavy-tailed noise, a mild daily bump; deploys move it for good. */
function apiLatency(r: Rng): FamilySpec {
  const base = between(r, 80, 400);
  const peak = between(r, 12, 16);
  return {
    stepMs: 2 * MINUTE,
    days: int(r, 10, 14),
    gaps: 1,
    sigma: 0.2 * base,
    anomalies: pick(r, ['level-shift', 'spike', 'variance'], int(r, 2, 3)),
    expected: (t) => base * (1 + 0.3 * daily(t, peak)),
    draw: (mu, r) => mu * Math.exp(0.08 * studentT4(r)),
    finish: (v) => roundTo(Math.max(1, v), 0.1),
  };
}

/** CPU %: daily and weekly cycle, bounded 0–100; a change of instance type changes its variance for good. */
function cpuPercent(r: Rng): FamilySpec {
  const idle = between(r, 5, 20);
  const busy = between(r, 25, 50);
  return {
    stepMs: 5 * MINUTE,
    days: 28,
    gaps: 2,
    sigma: 3,
    anomalies: [...pick(r, ['level-shift', 'broken-seasonality'], 1), { kind: 'variance', lasting: r() < 0.5 }],
    expected: (t) => idle + busy * daily(t, 14) * (weekend(t) ? 0.5 : 1),
    draw: (mu, r) => mu + 3 * gaussian(r),
    finish: (v) => roundTo(clamp(v, 0, 100), 0.1),
  };
}

/** Pods of a deployment under an autoscaler: integer steps, hours without a change, a rare ±1 blip. */
function replicaCount(r: Rng): FamilySpec {
  const min = int(r, 2, 4);
  const extra = int(r, 4, 10);
  return {
    stepMs: 2 * MINUTE,
    days: 14,
    gaps: 1,
    sigma: 1,
    anomalies: pick(r, ['dip', 'level-shift', 'flatline'], int(r, 1, 2)),
    expected: (t) => min + extra * daily(t, 15) * (weekend(t) ? 0.5 : 1),
    draw: (mu, r) => mu + (r() < 0.003 ? (r() < 0.5 ? -1 : 1) : 0),
    finish: (v) => Math.max(0, Math.round(v)),
  };
}

/**
 * Messages waiting in a queue: mostly 0, now and then a burst. Counts drawn around an exponentially distributed
 * load (a geometric count): at a mean of 0.5 two samples in three are 0, and 4 in 1,000 are above 4.
 */
function queueDepth(r: Rng): FamilySpec {
  const mean = between(r, 0.3, 2);
  return {
    stepMs: MINUTE,
    days: 7,
    gaps: 1,
    sigma: 1.5 * mean + 1,
    anomalies: pick(r, ['spike', 'variance', 'level-shift'], int(r, 1, 2)),
    expected: (t) => mean * (0.5 + daily(t, 11)),
    draw: (mu, r) => poisson(Math.max(0, mu) * -Math.log(1 - r()), r),
    finish: (v) => Math.max(0, Math.round(v)),
  };
}

/** Errors per minute (a counter's rate): sparse, mostly 0 or 1. */
function errorCount(r: Rng): FamilySpec {
  const rate = between(r, 0.05, 0.6);
  return {
    stepMs: MINUTE,
    days: 7,
    gaps: 1,
    sigma: Math.max(1, Math.sqrt(rate)),
    anomalies: pick(r, ['spike', 'level-shift'], int(r, 1, 2)),
    expected: (t) => rate * (0.3 + daily(t, 14)),
    draw: (mu, r) => poisson(mu, r),
    finish: (v) => Math.max(0, Math.round(v)),
  };
}

/** Jobs done per second, as rate() of a counter scraped every 5 minutes: quantised in 1/300 steps. */
function jobsRate(r: Rng): FamilySpec {
  const base = between(r, 0.02, 0.5);
  const step = 300;
  return {
    stepMs: 5 * MINUTE,
    days: int(r, 14, 21),
    gaps: 2,
    sigma: Math.sqrt(base * step) / step,
    anomalies: pick(r, ['dip', 'spike', 'broken-seasonality'], int(r, 2, 3)),
    expected: (t) => base * (0.3 + 0.7 * daily(t, 13)) * (weekend(t) ? 0.4 : 1),
    draw: (mu, r) => poisson(Math.max(0, mu) * step, r) / step,
  };
}

/** Disk used in GB: a slow climb, log rotation at midnight (a daily sawtooth), MB resolution. */
function diskUsed(r: Rng): FamilySpec {
  const start = between(r, 50, 400);
  const growth = between(r, 0.3, 2); // GB a day
  const logs = between(r, 0.5, 3); // GB written a day, rotated away at midnight
  return {
    stepMs: 5 * MINUTE,
    days: int(r, 14, 21),
    gaps: 1,
    sigma: 0.5,
    anomalies: pick(r, ['drift', 'level-shift'], int(r, 1, 2)),
    expected: (t) => start + (growth * (t - T0)) / DAY + (logs * hourOfDay(t)) / 24,
    draw: (mu, r) => mu + 0.02 * gaussian(r),
    finish: (v) => roundTo(v, 0.001),
  };
}

/** Heap used in MB: a garbage-collection sawtooth over a daily swell. */
function heapUsed(r: Rng): FamilySpec {
  const floor = between(r, 200, 800);
  const rise = between(r, 0.2, 0.5) * floor;
  const period = between(r, 10, 40) * MINUTE;
  return {
    stepMs: MINUTE,
    days: 7,
    gaps: 1,
    sigma: rise / 4,
    anomalies: pick(r, ['drift', 'flatline', 'variance'], int(r, 1, 2)),
    expected: (t) => floor * (1 + 0.2 * daily(t, 15)) + (rise * (t % period)) / period,
    draw: (mu, r) => mu + 0.02 * floor * gaussian(r),
    finish: (v) => Math.round(v),
  };
}

/** A room's temperature in °C at a sensor's 0.5 °C resolution: long flat stretches, a gentle daily swing. */
function temperature(r: Rng): FamilySpec {
  const level = between(r, 18, 26);
  const swing = between(r, 1.5, 4);
  return {
    stepMs: 5 * MINUTE,
    days: 14,
    gaps: 2,
    sigma: 0.5,
    anomalies: pick(r, ['flatline', 'spike', 'level-shift'], int(r, 1, 2)),
    expected: (t) => level + swing * daily(t, 15, 1),
    draw: (mu, r) => mu + 0.2 * gaussian(r),
    finish: (v) => roundTo(v, 0.5),
  };
}

/** CPU % of a batch host: an hourly job busy for a few minutes, idle between runs. */
function cronBatch(r: Rng): FamilySpec {
  const busy = between(r, 50, 90);
  const idle = between(r, 3, 10);
  const minutes = int(r, 4, 12);
  const running = (t: number) => t % HOUR < minutes * MINUTE;
  return {
    stepMs: MINUTE,
    days: 7,
    gaps: 1,
    sigma: 3,
    anomalies: pick(r, ['broken-seasonality', 'spike', 'variance'], int(r, 1, 2)),
    expected: (t) => (running(t) ? busy : idle),
    // The job stops running: idle through what should have been its runs.
    offSeason: () => idle,
    draw: (mu, r) => mu + 3 * gaussian(r),
    finish: (v) => roundTo(clamp(v, 0, 100), 0.1),
  };
}

/** Clean daily and weekly traffic with gaps, no anomaly at all: every alarm here is a false one. */
function quietSeasonal(r: Rng): FamilySpec {
  const base = between(r, 50, 500);
  const noise = between(r, 0.02, 0.08) * base;
  const peak = between(r, 10, 18);
  return {
    stepMs: 2 * MINUTE,
    days: 14,
    gaps: 3,
    sigma: noise,
    anomalies: [],
    expected: (t) => base * (0.3 + 0.7 * daily(t, peak)) * (weekend(t) ? 0.7 : 1),
    draw: (mu, r) => mu + noise * gaussian(r),
    finish: (v) => Math.max(0, v),
  };
}

/** Clean heavy-tailed noise around a level (Student t, 4 degrees of freedom), a faint daily swell, no anomaly. */
function quietHeavyTail(r: Rng): FamilySpec {
  const level = between(r, 20, 200);
  const noise = between(r, 0.02, 0.1) * level;
  const swell = between(r, 0, 0.2) * level;
  return {
    stepMs: MINUTE,
    days: 7,
    gaps: 1,
    sigma: noise,
    anomalies: [],
    expected: (t) => level + swell * daily(t, 14),
    draw: (mu, r) => mu + noise * studentT4(r),
    finish: (v) => Math.max(0, v),
  };
}

export const FAMILIES: Family[] = [
  { name: 'web-requests', make: webRequests },
  { name: 'api-latency', make: apiLatency },
  { name: 'cpu-percent', make: cpuPercent },
  { name: 'replica-count', make: replicaCount },
  { name: 'queue-depth', make: queueDepth },
  { name: 'error-count', make: errorCount },
  { name: 'jobs-rate', make: jobsRate },
  { name: 'disk-used', make: diskUsed },
  { name: 'heap-used', make: heapUsed },
  { name: 'temperature', make: temperature },
  { name: 'cron-batch', make: cronBatch },
  { name: 'quiet-seasonal', make: quietSeasonal },
  { name: 'quiet-heavy-tail', make: quietHeavyTail },
];
