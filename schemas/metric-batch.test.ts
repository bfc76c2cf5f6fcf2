import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { groupByPartition, halve, pointsOf, toMetricBatch } from './metric-batch.ts';
import { partitionOf, seriesKey, TOPICS, type MetricPoint } from './topics.ts';

const T0 = Date.UTC(2026, 11, 1);
const point = (instance: string, t: number, value: number, tenant = 'acme'): MetricPoint => ({
  tenant,
  timestamp: T0 + t,
  metric_name: 'http_requests_total',
  value,
  labels: { instance, job: 'api', service: 'api' },
});
const type = avro.Type.forSchema(JSON.parse(TOPICS.metricBatches.schema));
const roundTrip = (points: MetricPoint[]) =>
  groupByPartition(points, 3).flatMap((g) => pointsOf(type.fromBuffer(type.toBuffer(toMetricBatch(g.series))) as ReturnType<typeof toMetricBatch>));

describe('metric batch records', () => {
  const points = [point('a', 0, 1), point('b', 0, 2), point('a', 15_000, 3), point('c', 0, Number.NaN), point('b', 15_000, -Infinity)];

  it('give back every point, through Avro, grouped by series within its partition', () => {
    const back = roundTrip(points);
    const byKey = (ps: MetricPoint[]) => [...ps].sort((x, y) => seriesKey(x).localeCompare(seriesKey(y)) || x.timestamp - y.timestamp);
    expect(byKey(back)).toEqual(byKey(points));
  });

  it('put each series on the partition of its series key, once, with its labels as symbol references', () => {
    const groups = groupByPartition(points, 3);
    for (const g of groups)
      for (const s of g.series) expect(partitionOf(seriesKey({ tenant: s.tenant, metric_name: s.metric_name, labels: s.labels }), 3)).toBe(g.partition);
    expect(groups.flatMap((g) => g.series).map((s) => s.labels.instance)).toHaveLength(3);
    const a = groups.flatMap((g) => g.series).find((s) => s.labels.instance === 'a')!;
    expect([a.timestamps, a.values, a.firstItem]).toEqual([[T0, T0 + 15_000], [1, 3], 0]);
    const batch = toMetricBatch([a]);
    expect(batch.symbols).toEqual(['__name__', 'http_requests_total', 'instance', 'a', 'job', 'api', 'service']);
    expect(batch.series).toEqual([{ labels_refs: [0, 1, 2, 3, 4, 5, 6, 5], sample_count: 2 }]);
    expect([batch.base_timestamp, batch.timestamps]).toEqual([T0, [0, 15_000]]);
  });

  it('keep tenants apart: one record per tenant and partition', () => {
    const groups = groupByPartition([point('a', 0, 1, 'acme'), point('a', 0, 1, 'other')], 1);
    expect(groups.map((g) => g.series.map((s) => s.tenant))).toEqual([['acme'], ['other']]);
  });

  it('cut in two by series, then a lone series by samples, never below one sample', () => {
    const [g] = groupByPartition([point('a', 0, 1), point('a', 1, 2), point('a', 2, 3)], 1);
    const [left, right] = halve(g!.series)!;
    expect([left!.flatMap((s) => s.values), right!.flatMap((s) => s.values)]).toEqual([[1, 2], [3]]);
    expect(halve(right!)).toBeUndefined();
    const several = groupByPartition([point('a', 0, 1), point('b', 0, 2), point('c', 0, 3)], 1)[0]!.series;
    expect(halve(several)!.map((h) => h.map((s) => s.labels.instance))).toEqual([['a', 'b'], ['c']]);
  });

  it('keep a label named __proto__ a label when read back', () => {
    const p: MetricPoint = {
      ...point('a', 0, 1),
      labels: Object.fromEntries([
        ['__proto__', 'x'],
        ['service', 'api'],
      ]),
    };
    const [back] = roundTrip([p]);
    expect(Object.keys(back!.labels)).toEqual(['__proto__', 'service']);
    expect(Object.getPrototypeOf(back!.labels)).toBe(Object.prototype);
  });
});
