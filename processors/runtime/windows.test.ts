import { quantile } from 'simple-statistics';
import { describe, expect, it } from 'vitest';
import { seededRandom as random } from '../../test/helpers/random.ts';
import type { MetricPoint } from '../../schemas/topics.ts';
import { DDSketch } from '@datadog/sketches-js';
import { sketchBuckets, sketchGamma } from './sketch.ts';
import { DEFAULT_WINDOWS, PartitionWindows } from './windows.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const point = (timestamp: number, value: number, service = 'api'): MetricPoint => ({
  tenant: 't',
  timestamp,
  metric_name: 'latency_ms',
  value,
  labels: { service },
});

/** A point folded into its series' window, the series keyed by its labels as the processors key them. */
const addPoint = (w: PartitionWindows, p: MetricPoint, offset: bigint, identity?: number) =>
  w.add(
    {
      id: `${p.tenant}/${p.metric_name}/${JSON.stringify(p.labels)}`,
      tenant: p.tenant,
      metricName: p.metric_name,
      labels: p.labels,
      service: p.labels.service ?? '',
    },
    p.timestamp,
    p.value,
    offset,
    identity,
  );

const distributions: Record<string, (r: () => number) => number> = {
  'log-normal (skewed latency)': (r) => Math.exp(4.6 + 0.8 * Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r())),
  'Pareto α=1.5 (heavy tail)': (r) => 10 / (1 - r()) ** (1 / 1.5),
  'bimodal (cache hit / miss)': (r) => (r() < 0.9 ? 2 + r() : 200 + 50 * r()),
};

describe('window percentiles against exact quantiles', () => {
  it.each(Object.entries(distributions))('%s: p50–p99 within 1%%', (_name, draw) => {
    const r = random(42);
    const w = new PartitionWindows(DEFAULT_WINDOWS);
    const values = Array.from({ length: 20_000 }, () => draw(r));
    for (const [i, v] of values.entries()) addPoint(w, point(T0 + (i % 60_000), v), BigInt(i));
    w.advanceTo(T0 + 60_000 + DEFAULT_WINDOWS.latenessMs);
    const [win] = w.closeReady();
    expect(win!.count).toBe(values.length);
    expect(win!.sum).toBeCloseTo(
      values.reduce((a, b) => a + b, 0),
      3,
    );
    expect(win!.min).toBe(Math.min(...values));
    expect(win!.max).toBe(Math.max(...values));
    for (const [q, got] of [
      [0.5, win!.p50],
      [0.9, win!.p90],
      [0.95, win!.p95],
      [0.99, win!.p99],
    ] as const) {
      const exact = quantile(values, q);
      expect(Math.abs(got - exact) / exact, `p${q * 100}: ${got} vs ${exact}`).toBeLessThanOrEqual(0.01);
    }
  });
});

describe('a small window, summed up without a sketch', () => {
  // Fewer values than a window keeps raw: its figures are its own values, its buckets what a DDSketch would hold.
  it('reports its own values at the sketch’s ranks and the buckets a DDSketch would have', () => {
    const values = [12.5, -3, 0, 7, 7, 1e-320, 250, -0.5, 42, 3.25, 1e6];
    const w = new PartitionWindows(DEFAULT_WINDOWS);
    for (const [i, v] of values.entries()) addPoint(w, point(T0 + i * 1000, v), BigInt(i));
    w.advanceTo(T0 + 60_000 + DEFAULT_WINDOWS.latenessMs);
    const [win] = w.closeReady();

    const sorted = [...values].sort((a, b) => a - b);
    const sketch = new DDSketch({ relativeAccuracy: DEFAULT_WINDOWS.relativeAccuracy });
    for (const v of values) sketch.accept(v);
    expect(win).toMatchObject({ count: values.length, min: -3, max: 1e6 });
    expect(win!.sum).toBeCloseTo(sketch.sum, 9);
    for (const [q, got] of [
      [0.5, win!.p50],
      [0.9, win!.p90],
      [0.95, win!.p95],
      [0.99, win!.p99],
    ] as const) {
      // The rank a DDSketch reads (⌊q·(n−1)⌋), and within its accuracy of what the sketch itself answers.
      expect(got, `p${q * 100}`).toBe(sorted[Math.floor(q * (values.length - 1))]);
      expect(Math.abs(got - sketch.getValueAtQuantile(q))).toBeLessThanOrEqual(Math.abs(got) * DEFAULT_WINDOWS.relativeAccuracy * 1.01);
    }
    expect(new Map([...win!.sketch].sort(([a], [b]) => a - b))).toEqual(new Map([...sketchBuckets(sketch)].sort(([a], [b]) => a - b)));
    expect(win!.sketch_gamma).toBe(sketchGamma(sketch));
  });
});

describe('event-time windows and the watermark', () => {
  it('closes a window only when the watermark (max event time − lateness) passes its end', () => {
    const w = new PartitionWindows({ ...DEFAULT_WINDOWS, windowMs: 60_000, latenessMs: 30_000 });
    addPoint(w, point(T0 + 1000, 1), 0n);
    addPoint(w, point(T0 + 70_000, 2), 1n); // next window; watermark T0+40s
    expect(w.closeReady()).toEqual([]);
    addPoint(w, point(T0 + 20_000, 3), 2n); // out of order but within lateness: folded in
    addPoint(w, point(T0 + 90_000, 4), 3n); // watermark T0+60s: the first window closes
    const [first, ...rest] = w.closeReady();
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ window_start: T0, window_end: T0 + 60_000, count: 2, sum: 4, min: 1, max: 3 });
    expect(addPoint(w, point(T0 + 59_000, 5), 4n)).toBe('late');
    expect(w.openWindows).toBe(1);
  });

  it('keeps series apart and commits only what closed windows no longer need', () => {
    const w = new PartitionWindows(DEFAULT_WINDOWS);
    addPoint(w, point(T0, 1, 'a'), 10n);
    addPoint(w, point(T0 + 61_000, 1, 'b'), 11n);
    addPoint(w, point(T0 + 1_000, 1, 'b'), 12n);
    expect(w.committableOffset(13n)).toBe(10n);
    w.advanceTo(T0 + 90_000);
    const closed = w.closeReady();
    expect(closed.map((c) => [c.service, c.count]).sort()).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(w.committableOffset(13n)).toBe(11n); // the b window at T0+60s is still open
    w.advanceTo(T0 + 200_000);
    w.closeReady();
    expect(w.committableOffset(13n)).toBe(13n);
  });

  it('a restored watermark treats windows before it as closed', () => {
    const w = new PartitionWindows(DEFAULT_WINDOWS, { w: T0 + 60_000, p: '-1' });
    expect(addPoint(w, point(T0 + 5_000, 1), 0n)).toBe('late');
    expect(addPoint(w, point(T0 + 65_000, 1), 1n)).toBe(T0 + 60_000);
  });

  it('counts a sample once however often it arrives: a sender retry is a duplicate by identity, not a second value', () => {
    const w = new PartitionWindows(DEFAULT_WINDOWS);
    expect(addPoint(w, point(T0 + 1000, 5), 0n, T0 + 1000)).toBe(T0);
    expect(addPoint(w, point(T0 + 2000, 7), 1n, T0 + 2000)).toBe(T0);
    // The same two samples again at new offsets, as a retried request writes them.
    expect(addPoint(w, point(T0 + 1000, 5), 2n, T0 + 1000)).toBe('duplicate');
    expect(addPoint(w, point(T0 + 2000, 7), 3n, T0 + 2000)).toBe('duplicate');
    w.advanceTo(T0 + 100_000);
    const [closed] = w.closeReady();
    expect([closed!.count, closed!.sum]).toEqual([2, 12]);
  });
});
