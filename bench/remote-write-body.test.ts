import { describe, expect, it } from 'vitest';
import { decodeRemoteWrite, toMetricPoints } from '../gateway/protocols/remote-write.ts';
import { exporterSeries, StampedBodies, verifyBody } from './remote-write-body.ts';

const HEADERS = { contentType: 'application/x-protobuf', contentEncoding: 'snappy' };

describe('exporterSeries', () => {
  it('gives distinct label sets, sorted by name, __name__ first', () => {
    const series = exporterSeries(1000);
    expect(new Set(series.map((labels) => JSON.stringify(labels))).size).toBe(1000);
    for (const labels of series) {
      expect(labels[0]!.name).toBe('__name__');
      expect(labels.map((l) => l.name)).toEqual(labels.map((l) => l.name).sort());
      expect(labels.map((l) => l.name)).toEqual(expect.arrayContaining(['job', 'instance', 'service']));
    }
  });
});

describe('StampedBodies', () => {
  const startMs = Date.now() - 15 * 60_000;

  it('stamps request k with the k-th samples of every series', () => {
    const bodies = new StampedBodies(exporterSeries(300), { samplesPerSeries: 3, startMs, stepMs: 100 });
    expect(bodies.samplesPerRequest).toBe(900);
    for (const k of [0, 1, 2, 7, 100_000]) verifyBody(bodies, k);
  });

  it('is read by the gateway: every sample, in order per series, none refused', () => {
    const bodies = new StampedBodies(exporterSeries(50), { samplesPerSeries: 2, startMs, stepMs: 100 });
    const first = decodeRemoteWrite(bodies.body(4), HEADERS, { maxDecodedBytes: 1 << 24 });
    const second = decodeRemoteWrite(bodies.body(5), HEADERS, { maxDecodedBytes: 1 << 24 });
    expect(first.samples).toHaveLength(100);
    expect(first.samples.map((s) => s.timestamp).slice(0, 2)).toEqual([startMs + 800, startMs + 900]);
    expect(second.samples[0]!.timestamp).toBe(startMs + 1000);
    expect(first.samples[0]!.metric_name).toBe('node_cpu_seconds_total');
    const points = toMetricPoints('bench', second);
    expect(points.points).toHaveLength(100);
    expect(points.outOfWindow + points.invalid).toBe(0);
  });

  it('builds the same bytes from the same options, and other values from another seed', () => {
    const opts = { samplesPerSeries: 1, startMs, stepMs: 100, seed: 7 };
    const a = new StampedBodies(exporterSeries(20), opts).body(3);
    expect(new StampedBodies(exporterSeries(20), opts).body(3).equals(a)).toBe(true);
    expect(new StampedBodies(exporterSeries(20), { ...opts, seed: 8 }).body(3).equals(a)).toBe(false);
  });

  it('refuses timestamps that do not fit the 6-byte varints written in place', () => {
    expect(() => new StampedBodies(exporterSeries(2), { samplesPerSeries: 1, startMs: 1000, stepMs: 100 })).toThrow(/2\^35/);
    const bodies = new StampedBodies(exporterSeries(2), { samplesPerSeries: 1, startMs: 2 ** 42 - 1000, stepMs: 100 });
    expect(() => bodies.body(10)).toThrow(/2\^42/);
  });
});
