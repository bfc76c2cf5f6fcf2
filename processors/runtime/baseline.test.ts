import { describe, expect, it } from 'vitest';
import { gaussian, seededRandom as random } from '../../test/helpers/random.ts';
import { DEFAULT_DETECTOR, emptyBaseline, judge, type DetectorConfig } from './baseline.ts';

/** The rule as first written: mean/std, every sample learned, no level-shift reset, no scale floor, raw z. */
const CLASSIC: DetectorConfig = {
  ...DEFAULT_DETECTOR,
  method: 'classic',
  learnAnomalies: true,
  shiftAfter: Infinity,
  minRelativeScale: 0,
  smallSampleCorrection: false,
};

describe('the classic rule (mean/std over the last 1000, |z| > 2.5)', () => {
  it('gives no verdict before 10 samples, then z = (x − mean) / std with the documented severities', () => {
    const s = emptyBaseline();
    const warmup = [98, 102, 99, 101, 100, 97, 103, 100, 99, 101];
    for (const v of warmup) {
      const verdict = judge(s, v, CLASSIC);
      expect(verdict).toMatchObject({ anomaly: false, score: 0 });
      expect(verdict.z).toBeUndefined();
    }
    const mean = 100;
    const std = Math.sqrt(warmup.reduce((a, v) => a + (v - mean) ** 2, 0) / (warmup.length - 1));
    const v = judge(emptyBaselineWith(warmup), 100 + 3.5 * std, CLASSIC);
    expect(v.z).toBeCloseTo(3.5, 6);
    expect(v).toMatchObject({ anomaly: true, severity: 'high' });
    expect(judge(emptyBaselineWith(warmup), 100 + 2.6 * std, CLASSIC).severity).toBe('medium');
    expect(judge(emptyBaselineWith(warmup), 100 - 4.5 * std, CLASSIC).severity).toBe('critical');
    expect(judge(emptyBaselineWith(warmup), 100 + 2.4 * std, CLASSIC).anomaly).toBe(false);
  });

  it('keeps only the last `window` samples', () => {
    const s = emptyBaseline();
    for (let i = 0; i < 1500; i++) judge(s, i % 7, CLASSIC);
    expect(s.values).toHaveLength(1000);
  });
});

function emptyBaselineWith(values: number[]) {
  return { ...emptyBaseline(), values: [...values] };
}

describe('improvements over the classic rule', () => {
  it('robust statistics: a first spike does not mask a second one', () => {
    const r = random(7);
    const series = Array.from({ length: 300 }, () => 100 + 5 * gaussian(r));
    series[200] = 400; // first incident
    series[210] = 140; // a second, smaller one right after
    const flagged = (cfg: DetectorConfig) => {
      const s = emptyBaseline();
      return series.map((v) => judge(s, v, cfg).anomaly);
    };
    expect(flagged(DEFAULT_DETECTOR)[210]).toBe(true);
    expect(flagged(CLASSIC)[210]).toBe(false); // std inflated by the 400 hides it
  });

  it('fewer false alarms on a near-flat series: a change must be at least 1% of the level', () => {
    const r = random(11);
    // A gauge that wobbles by a few hundredths around 100 (rounding, sampling jitter), with one real 20% dip.
    const series = Array.from({ length: 2000 }, () => 100 + Math.round(3 * gaussian(r)) / 100);
    series[1500] = 80;
    const alarms = (cfg: DetectorConfig) => {
      const s = emptyBaseline();
      return series.map((v, i) => (judge(s, v, cfg).anomaly ? i : -1)).filter((i) => i >= 0);
    };
    expect(alarms(DEFAULT_DETECTOR)).toEqual([1500]);
    expect(alarms(CLASSIC).length).toBeGreaterThan(10); // every 0.1 wobble is "2.5σ" of a 0.03 std
  });

  it('level shifts: the baseline moves to the new level, so a spike there is still seen', () => {
    const r = random(3);
    const series = [...Array.from({ length: 500 }, () => 100 + 5 * gaussian(r)), ...Array.from({ length: 500 }, () => 1500 + 50 * gaussian(r))];
    series[800] = 2100; // a real spike at the new level (12σ)
    const run = (cfg: DetectorConfig) => {
      const s = emptyBaseline();
      const verdicts = series.map((v) => judge(s, v, cfg));
      return {
        shifts: verdicts.filter((v) => v.levelShift).length,
        alarmsAtNewLevel: verdicts.slice(520).filter((v, i) => v.anomaly && i + 520 !== 800).length,
        spike: verdicts[800]!.anomaly,
      };
    };
    const ours = run(DEFAULT_DETECTOR);
    expect(ours.shifts).toBe(1);
    expect(ours.spike).toBe(true);
    expect(ours.alarmsAtNewLevel).toBeLessThan(20); // ~1.2% of normal samples exceed 2.5σ by definition
    // The classic rule: 500 samples at 100 and 1500 in one window make the std ~700, hiding the spike.
    expect(run(CLASSIC).spike).toBe(false);
    // Without the shift rule the robust baseline alarms until the old level scrolls out of the median.
    expect(run({ ...DEFAULT_DETECTOR, shiftAfter: Infinity }).alarmsAtNewLevel).toBeGreaterThan(100);
  });

  it('the first sample of a jump from ~100 ms to ~1500 ms is critical with a large z', () => {
    const r = random(5);
    const s = emptyBaseline();
    for (let i = 0; i < 100; i++) judge(s, 100 + 5 * gaussian(r), DEFAULT_DETECTOR);
    const v = judge(s, 1500, DEFAULT_DETECTOR);
    expect(v.severity).toBe('critical');
    expect(v.z!).toBeGreaterThan(10); // ~280 raw MADs; read as a t with 37 effective degrees of freedom
    expect(v.score).toBeGreaterThan(0.999);
  });

  it('a flat series needs a real change: the scale floor is 1% of the level', () => {
    const s = emptyBaseline();
    for (let i = 0; i < 20; i++) judge(s, 100, DEFAULT_DETECTOR);
    expect(judge(s, 101, DEFAULT_DETECTOR).anomaly).toBe(false);
    expect(judge(s, 110, DEFAULT_DETECTOR).anomaly).toBe(true);
  });

  it('scores are in [0, 1] and grow with |z|', () => {
    const r = random(9);
    const s = emptyBaseline();
    for (let i = 0; i < 50; i++) judge(s, 10 + gaussian(r), DEFAULT_DETECTOR);
    const scores = [10, 11, 12, 14, 20].map((v) => judge({ ...s, values: [...s.values] }, v, DEFAULT_DETECTOR).score);
    for (const sc of scores) {
      expect(sc).toBeGreaterThanOrEqual(0);
      expect(sc).toBeLessThanOrEqual(1);
    }
    expect([...scores].slice(1).every((sc, i) => sc >= scores[i]!)).toBe(true);
  });
});

describe('small-sample correction', () => {
  it('gives Gaussian noise the normal rate of |z| > 3 and > 4 from the 10th sample on; raw robust z does not', () => {
    const rates = (smallSampleCorrection: boolean) => {
      const r = random(1);
      let n = 0;
      let over3 = 0;
      let over4 = 0;
      for (let series = 0; series < 400; series++) {
        const s = emptyBaseline();
        for (let i = 0; i < 240; i++) {
          const v = judge(s, 100 + 5 * gaussian(r), { ...DEFAULT_DETECTOR, minRelativeScale: 0, smallSampleCorrection });
          if (v.z === undefined) continue;
          n++;
          if (Math.abs(v.z) > 3) over3++;
          if (Math.abs(v.z) > 4) over4++;
        }
      }
      return { over3: over3 / n, over4: over4 / n };
    };
    const corrected = rates(true);
    expect(corrected.over3).toBeGreaterThan(0.0018); // normal: 0.0027
    expect(corrected.over3).toBeLessThan(0.004);
    expect(corrected.over4).toBeLessThan(0.0003); // normal: 0.00006
    const raw = rates(false);
    expect(raw.over3).toBeGreaterThan(0.005);
    expect(raw.over4).toBeGreaterThan(0.0005);
  });
});

describe('incremental statistics', () => {
  it('centre and scale equal a from-scratch median/MAD over the window at every step', () => {
    const r = random(21);
    const cfg = { ...DEFAULT_DETECTOR, window: 101, shiftAfter: Infinity };
    const s = emptyBaseline();
    for (let i = 0; i < 3000; i++) {
      const before = [...s.values];
      const value = Math.round(r() * 1000) / 10 + (i > 1500 ? 30 : 0);
      const v = judge(s, value, cfg);
      if (before.length < cfg.minSamples) continue;
      const med = medianOf(before);
      const mad = medianOf(before.map((x) => Math.abs(x - med)));
      expect(v.centre).toBeCloseTo(med, 9);
      expect(v.scale).toBeCloseTo(Math.max(1.4826 * mad, Math.abs(med) * cfg.minRelativeScale), 9);
      const mean = before.reduce((a, b) => a + b, 0) / before.length;
      expect(v.mean).toBeCloseTo(mean, 6);
    }
  });
});

function medianOf(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
