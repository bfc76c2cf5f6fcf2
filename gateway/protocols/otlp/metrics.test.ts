import { describe, expect, it } from 'vitest';
import { exponentialQuantile, toOtlpMetricSeries } from './metrics.ts';
import type { ExponentialHistogramDataPointMsg, MetricMsg, MetricsRequestMsg } from './messages.ts';

const NOW = Date.UTC(2026, 11, 1, 12);
const ns = (ms: number) => ms * 1e6;
const str = (key: string, v: string) => ({ key, value: { value: 'string_value', string_value: v } as never });
const request = (...metrics: Partial<MetricMsg>[]): MetricsRequestMsg => ({
  resource_metrics: [
    { resource: { attributes: [str('service.name', 'api')], dropped_attributes_count: 0 }, scope_metrics: [{ scope: null, metrics: metrics as MetricMsg[] }] },
  ],
});
const point = (extra: object) => ({ attributes: [], start_time_unix_nano: 0, time_unix_nano: ns(NOW), flags: 0, ...extra });
const samples = (r: ReturnType<typeof toOtlpMetricSeries>) =>
  r.series.flatMap((s) => s.values.map((v) => ({ name: s.metric_name, labels: s.labels, value: v })));

describe('toOtlpMetricSeries', () => {
  it('a delta sum stays as sent, marked delta, not a `_total` counter', () => {
    const r = toOtlpMetricSeries(
      't',
      request({
        name: 'jobs.done',
        data: 'sum',
        sum: { aggregation_temporality: 1, is_monotonic: true, data_points: [point({ value: 'as_int', as_int: 4 }) as never] },
      }),
      NOW,
    );
    expect(samples(r)).toEqual([{ name: 'jobs.done', labels: { otel_temporality: 'delta', service: 'api' }, value: 4 }]);
  });

  it('a summary is its quantiles, `_count` and `_sum`', () => {
    const r = toOtlpMetricSeries(
      't',
      request({
        name: 'rpc.latency',
        data: 'summary',
        summary: {
          data_points: [
            point({
              count: 10,
              sum: 42,
              quantile_values: [
                { quantile: 0.5, value: 3 },
                { quantile: 0.99, value: 9 },
              ],
            }) as never,
          ],
        },
      }),
      NOW,
    );
    expect(samples(r).map((s) => [s.name, s.labels.quantile, s.value])).toEqual([
      ['rpc.latency', '0.5', 3],
      ['rpc.latency', '0.99', 9],
      ['rpc.latency_count', undefined, 10],
      ['rpc.latency_sum', undefined, 42],
    ]);
    expect(r.total).toBe(1); // one OTLP data point, however many series it fills
  });

  it('a point flagged "no recorded value" is a staleness marker, not a sample', () => {
    const r = toOtlpMetricSeries(
      't',
      request({ name: 'up', data: 'gauge', gauge: { data_points: [point({ flags: 1, value: 'as_double', as_double: 0 }) as never] } }),
      NOW,
    );
    expect(r.samples).toBe(0);
    expect(r.stale).toEqual([{ tenant: 't', timestamp: NOW, metric_name: 'up', labels: { service: 'api' } }]);
  });

  it('refuses a point outside the window and a label over the length limit, counting each', () => {
    const r = toOtlpMetricSeries(
      't',
      request({
        name: 'g',
        data: 'gauge',
        gauge: {
          data_points: [
            point({ value: 'as_double', as_double: 1 }),
            point({ time_unix_nano: ns(NOW - 40 * 86_400_000), value: 'as_double', as_double: 2 }),
            point({ attributes: [str('big', 'x'.repeat(3000))], value: 'as_double', as_double: 3 }),
          ] as never,
        },
      }),
      NOW,
    );
    expect([r.total, r.samples, r.outOfWindow, r.invalid]).toEqual([3, 1, 1, 1]);
  });
});

describe('exponentialQuantile', () => {
  // scale 0: base 2, bucket i covers (2^i, 2^(i+1)]; its middle is 2^(i+0.5).
  const h = (positive: number[], offset = 0, zero = 0): ExponentialHistogramDataPointMsg =>
    ({ scale: 0, zero_count: zero, positive: { offset, bucket_counts: positive }, negative: null, count: 0, sum: 0, min: 0, max: 0 }) as never;

  it('is the middle of the bucket the rank falls in', () => {
    const p = h([1, 1, 8], 3); // 1 in (8,16], 1 in (16,32], 8 in (32,64]
    expect(exponentialQuantile(p, 0)).toBeCloseTo(2 ** 3.5);
    expect(exponentialQuantile(p, 0.15)).toBeCloseTo(2 ** 4.5);
    expect(exponentialQuantile(p, 0.99)).toBeCloseTo(2 ** 5.5);
  });

  it('counts the zero bucket, clamps to min/max, and is NaN when empty', () => {
    expect(exponentialQuantile(h([1], 0, 3), 0.5)).toBe(0);
    expect(exponentialQuantile({ ...h([4], 5), max: 40, _max: 'max' }, 0.99)).toBe(40);
    expect(exponentialQuantile(h([]), 0.5)).toBeNaN();
  });
});
