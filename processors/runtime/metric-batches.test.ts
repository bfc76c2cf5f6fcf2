import { describe, expect, it } from 'vitest';
import { groupByPartition, toMetricBatch } from '../../schemas/metric-batch.ts';
import type { MetricBatch, MetricPoint } from '../../schemas/topics.ts';
import { forEachSeries, identify, SeriesIdentities } from './metric-batches.ts';

const point = (labels: Record<string, string>, timestamp: number, value: number, metric_name = 'latency_ms'): MetricPoint => ({
  tenant: 'acme',
  metric_name,
  timestamp,
  value,
  labels,
});
/** A record as the gateway writes it (labels sorted by name before they get here). */
const batchOf = (points: MetricPoint[]): MetricBatch => toMetricBatch(groupByPartition(points, 1)[0]!.series);

describe('reading metric batch records series by series', () => {
  it('gives each series its samples as an index range, with absolute times', () => {
    const b = batchOf([point({ service: 'a' }, 1000, 1), point({ service: 'b' }, 1000, 2), point({ service: 'a' }, 2000, 3)]);
    const seen: [string, number[], number[]][] = [];
    forEachSeries(b, identify(b, new SeriesIdentities()), (s, from, to) => {
      const idx = Array.from({ length: to - from }, (_, k) => from + k);
      seen.push([s.service, idx.map((i) => b.base_timestamp + b.timestamps[i]!), idx.map((i) => b.values[i]!)]);
    });
    expect(seen).toEqual([
      ['a', [1000, 2000], [1, 3]],
      ['b', [1000], [2]],
    ]);
  });

  it('builds a series identity once and finds it again in later records, whatever their symbol tables', () => {
    const identities = new SeriesIdentities();
    const first = batchOf([point({ pod: 'p1', service: 'a' }, 1000, 1)]);
    // Another record: other series first, so every symbol has another index.
    const second = batchOf([point({ service: 'z', zone: 'eu' }, 2000, 1), point({ pod: 'p1', service: 'a' }, 2000, 1)]);
    const [a1] = identify(first, identities);
    const [, a2] = identify(second, identities);
    expect(a2).toBe(a1);
    expect(a1).toMatchObject({ tenant: 'acme', metricName: 'latency_ms', labels: { pod: 'p1', service: 'a' }, service: 'a' });
    expect(a1!.id).toBe(`acme\u0000latency_ms\u0000${JSON.stringify({ pod: 'p1', service: 'a' })}`);
  });

  it('never confuses two series whose labels join to the same text (values may hold any character, NUL too)', () => {
    const identities = new SeriesIdentities();
    // Joined with a NUL separator, both would read "service\0a\0x\0b": the length prefixes keep them apart.
    const one = batchOf([point({ service: 'a\u0000x\u0000b' }, 1000, 1)]);
    const two = batchOf([point({ service: 'a', x: 'b' }, 1000, 1)]);
    expect(identify(one, identities)[0]!.id).not.toBe(identify(two, identities)[0]!.id);
    expect(identify(two, identities)[0]!.labels).toEqual({ service: 'a', x: 'b' });
  });

  it('tells apart series whose hashes collide, and still finds each again', () => {
    const identities = new SeriesIdentities(1000, () => 7); // every string hashes alike: every series collides
    const rec = (pod: string, tenant = 'acme') => ({ ...batchOf([point({ pod, service: 's' }, 1000, 1)]), tenant });
    const [a] = identify(rec('a'), identities);
    const [b] = identify(rec('b'), identities);
    const [c] = identify(rec('a', 'other-tenant'), identities);
    expect(new Set([a!.id, b!.id, c!.id]).size).toBe(3);
    expect(identify(rec('b'), identities)[0]).toBe(b);
    expect(identify(rec('a'), identities)[0]).toBe(a);
    expect(identify(rec('a', 'other-tenant'), identities)[0]).toBe(c);
    expect(c!.tenant).toBe('other-tenant');
  });

  // A hit is confirmed against the identity's labels object (no copy of its strings is kept): one label more or
  // fewer, or another metric name, is another series even when every hash agrees.
  it('tells apart colliding series whose labels are a prefix of one another, or whose metric names differ', () => {
    const identities = new SeriesIdentities(1000, () => 7);
    const rec = (labels: Record<string, string>, metric = 'latency_ms') => batchOf([point(labels, 1000, 1, metric)]);
    const [short] = identify(rec({ service: 's' }), identities);
    const [long] = identify(rec({ pod: 'a', service: 's' }), identities);
    const [other] = identify(rec({ service: 's' }, 'errors_total'), identities);
    expect(new Set([short!.id, long!.id, other!.id]).size).toBe(3);
    expect(identify(rec({ service: 's' }), identities)[0]).toBe(short);
    expect(identify(rec({ pod: 'a', service: 's' }), identities)[0]).toBe(long);
    expect(identify(rec({ service: 's' }, 'errors_total'), identities)[0]).toBe(other);
    expect(long!.labelsJson).toBe('{"pod":"a","service":"s"}');
  });

  it('keeps a label named __proto__ as a label', () => {
    const b = batchOf([point({ service: 'a', ['__proto__']: 'x' }, 1000, 1)]);
    const [s] = identify(b, new SeriesIdentities());
    expect(Object.keys(s!.labels)).toContain('__proto__');
    expect(s!.labelsJson).toContain('"__proto__":"x"');
  });

  it('forgets series that stopped after two generations, and keeps those still sending', () => {
    const identities = new SeriesIdentities(2);
    const rec = (pod: string) => batchOf([point({ pod, service: 's' }, 1000, 1)]);
    const [steady] = identify(rec('steady'), identities);
    identify(rec('gone'), identities);
    for (const pod of ['n1', 'n2', 'n3', 'n4']) {
      identify(rec(pod), identities);
      expect(identify(rec('steady'), identities)[0]).toBe(steady);
    }
    expect(identities.size).toBeLessThanOrEqual(4);
  });
});
