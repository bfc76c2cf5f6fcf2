import { describe, expect, it } from 'vitest';
import { gaussian, seededRandom } from '../../test/helpers/random.ts';
import { DEFAULT_DETECTOR, emptyState, lastTimeOf, observe, STATE_LENGTH, type DetectorConfig, type Verdict } from './detector.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

/** Feeds `values` one a minute from t0 (or at `times`); returns each verdict. */
function run(values: number[], cfg: DetectorConfig = DEFAULT_DETECTOR, times?: number[]): Verdict[] {
  const state = emptyState();
  return values.map((v, i) => observe(state, times?.[i] ?? i * MIN, v, cfg));
}
const raised = (verdicts: Verdict[]) => verdicts.flatMap((v, i) => (v.anomaly ? [i] : []));
const reported = (verdicts: Verdict[]) => verdicts.flatMap((v, i) => (v.anomaly || v.sustained ? [i] : []));

describe('the detector', () => {
  it('learns quietly for minSamples, then judges', () => {
    const verdicts = run([5, 6, 5, 4, 5, 6, 5, 4, 5, 6, 500]);
    expect(verdicts.slice(0, DEFAULT_DETECTOR.minSamples).every((v) => v.score === 0 && !v.anomaly && v.z === undefined)).toBe(true);
    expect(verdicts[DEFAULT_DETECTOR.minSamples]!.anomaly).toBe(true);
  });

  it('raises a spike once, and the samples after it are not anomalies', () => {
    const r = seededRandom(1);
    const values = Array.from({ length: 2000 }, (_, i) => 100 + 2 * gaussian(r) + (i === 1500 ? 40 : 0));
    expect(raised(run(values))).toEqual([1500]);
  });

  it('raises a second and a third incident like the first, even on a young series', () => {
    // An anomaly is remembered faintly, never as more than half of alarmP of the history. Remembered at a tenth of
    // a sample (this code before that cap), only the first was raised: one spike in 100 samples made the next a
    // 1-in-1,000 event, not under 1e-4.
    const r = seededRandom(11);
    const values = Array.from({ length: 400 }, (_, i) => ([100, 200, 300].includes(i) ? 2000 : 100 + 5 * gaussian(r)));
    expect(raised(run(values))).toEqual([100, 200, 300]);
  });

  it('on Gaussian noise alarms about as often as alarmP says, once past its first hundred samples', () => {
    const r = seededRandom(2);
    let alarms = 0;
    let judged = 0;
    for (let s = 0; s < 20; s++) {
      const verdicts = run(Array.from({ length: 5000 }, () => 50 + 4 * gaussian(r)));
      for (const v of verdicts.slice(100)) {
        judged++;
        if (v.anomaly) alarms++;
      }
    }
    // 98,000 samples: 1e-4 would be ~10 alarms. An uncalibrated |z| > 4 rule raises ~6 here, |z| > 3.5 ~45.
    expect(alarms / judged).toBeLessThan(2 * DEFAULT_DETECTOR.alarmP);
  });

  it('calibrates to a heavy tail: what is usual for this series is not an anomaly, however large in its scale', () => {
    const r = seededRandom(3);
    // Student t with 2 degrees of freedom: |x| > 7 one sample in 50. A Gaussian rule alarms on every one of them.
    const t2 = () => gaussian(r) / Math.sqrt((gaussian(r) ** 2 + gaussian(r) ** 2) / 2);
    const verdicts = run(Array.from({ length: 20_000 }, () => 200 + 10 * t2()));
    const rate = raised(verdicts.slice(2000)).length / 18_000;
    expect(rate).toBeLessThan(5 * DEFAULT_DETECTOR.alarmP);
    const big = verdicts.slice(2000).filter((v) => Math.abs(v.z!) > 7).length;
    expect(big).toBeGreaterThan(100); // the scale sees them as large; the calibration knows they are usual
  });

  it('a series that never moved: its first move is not judged by a scale it never had', () => {
    const values = Array.from({ length: 200 }, () => 3);
    values.push(4, 3, 3);
    // After 200 repeats a change has a chance of about 1 in 200: not an anomaly (with no scale, its z is astronomic).
    expect(raised(run(values))).toEqual([]);
  });

  it('does not collapse on a quantised gauge: a step of one is usual, a jump of ten is not', () => {
    const r = seededRandom(4);
    const values = Array.from({ length: 3000 }, () => 3 + (r() < 0.05 ? 1 : 0));
    values[2500] = 13;
    expect(raised(run(values))).toEqual([2500]);
  });

  it('moves to a new level after a shift: raised once, reported once more as sustained, then quiet at the new level', () => {
    const r = seededRandom(5);
    const values = Array.from({ length: 3000 }, (_, i) => 100 + 2 * gaussian(r) + (i >= 2000 ? 30 : 0));
    const verdicts = run(values);
    expect(reported(verdicts)).toEqual([2000, 2000 + DEFAULT_DETECTOR.sustainAfter - 1]);
    expect(verdicts.slice(2000, 2000 + DEFAULT_DETECTOR.shiftAfter).some((v) => v.levelShift)).toBe(true);
    // The level, not a rebuilt baseline: the scale it learned over 2000 samples is still the noise's.
    expect(Math.abs(verdicts[2900]!.expected - 130)).toBeLessThan(2);
    expect(verdicts[2900]!.scale).toBeLessThan(4);
  });

  it('learns the time of day: a daily peak is expected, the same value at night is not', () => {
    const r = seededRandom(6);
    const times = Array.from({ length: 10 * 24 * 12 }, (_, i) => i * 5 * MIN); // ten days, one sample per 5 minutes
    const daily = (t: number) => 100 + 80 * Math.sin((2 * Math.PI * (t % DAY)) / DAY);
    const values = times.map((t) => daily(t) + 3 * gaussian(r));
    const night = times.length - 12 * 6; // 18:00 on the last day, the trough
    values[night] = 180; // what 06:00 looks like
    const verdicts = run(values, DEFAULT_DETECTOR, times);
    const lastDays = raised(verdicts.slice(3 * 24 * 12)).map((i) => i + 3 * 24 * 12);
    expect(lastDays).toEqual([night]);
    // Without the profile the level has to chase the cycle, and the scale widens to cover the chase.
    const flat = run(values, { ...DEFAULT_DETECTOR, seasonRate: 0 }, times);
    expect(flat[night]!.scale).toBeGreaterThan(2 * verdicts[night]!.scale);
  });

  it('keeps resolution at the top of the score, and severity follows the p-value', () => {
    const r = seededRandom(7);
    const base = Array.from({ length: 3000 }, () => 10 + gaussian(r));
    const scores = [20, 40, 80, 160].map((jump) => {
      const v = run([...base, 10 + jump]).at(-1)!;
      expect(v.anomaly).toBe(true);
      expect(v.severity).toBe(v.p <= DEFAULT_DETECTOR.criticalP ? 'critical' : v.p <= DEFAULT_DETECTOR.highP ? 'high' : 'medium');
      return v.score;
    });
    for (let i = 1; i < scores.length; i++) expect(scores[i]).toBeGreaterThan(scores[i - 1]!);
    expect(scores.at(-1)).toBeLessThan(1);
    // S / (S + 1) with S = −log10(p): the alarm threshold is a score of 0.8.
    const v = run([...base, 14]).at(-1)!;
    expect(v.score).toBeCloseTo(-Math.log10(v.p) / (1 - Math.log10(v.p)), 12);
  });

  it('holds a fixed-size state whatever the history, and remembers the last time it judged', () => {
    const state = emptyState();
    expect(state).toHaveLength(STATE_LENGTH);
    for (let i = 0; i < 10_000; i++) observe(state, i * 1000, Math.sin(i));
    expect(state).toHaveLength(STATE_LENGTH);
    expect(STATE_LENGTH * 8).toBeLessThan(1024);
    expect(lastTimeOf(state)).toBe(9_999_000);
  });
});
