import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { seriesOf, toMetricBatch } from './metric-batch.ts';
import { writeMetricBatch } from './metric-batch-writer.ts';
import { TOPICS, type MetricBatch, type MetricPoint } from './topics.ts';

const type = avro.Type.forSchema(JSON.parse(TOPICS.metricBatches.schema));
const HEADER = Buffer.from([0, 0, 0, 1, 7]);

/** A small seeded generator: the same points every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['api', 'é', 'データ', 'emoji 🚀', 'x'.repeat(70), 'y'.repeat(200), '', 'line\nbreak', 'quote"s', '\u0000nul'];
const VALUES = [0, -0, 1.5, -3, Number.NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, 2 ** 53, 0.1];

function points(seed: number, count: number): MetricPoint[] {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const base = 1_780_000_000_000;
  return Array.from({ length: count }, (_, i) => {
    const labels: Record<string, string> = {};
    const n = Math.floor(rnd() * 6);
    for (let j = 0; j < n; j++) labels[`${pick(WORDS)}${j}`] = `${pick(WORDS)}${Math.floor(rnd() * 5)}`;
    labels.service = pick(WORDS);
    // Deltas from the first sample: small, negative, and past 2^30 (avsc's other arithmetic).
    const timestamp = pick([base + i, base - 15_000 * i, base + 2 ** 31 + i, base - 2 ** 40, 0, 2 ** 52]);
    return { tenant: seed % 2 ? 'acme' : 'tenant-ü', timestamp, metric_name: `${pick(WORDS)}_${Math.floor(rnd() * 3)}`, value: pick(VALUES), labels };
  });
}

describe('writeMetricBatch', () => {
  it('writes the bytes avsc writes for toMetricBatch, header first', () => {
    // Fails if any primitive differed from avsc's (zigzag past 2^30, UTF-8 strings, block counts, doubles).
    for (let seed = 1; seed <= 40; seed++) {
      const series = seriesOf(points(seed, seed * 7));
      const expected = Buffer.concat([HEADER, type.toBuffer(toMetricBatch(series))]);
      expect(writeMetricBatch(series, HEADER).equals(expected)).toBe(true);
    }
  });

  it('reads back through the schema as the series it was given', () => {
    const series = seriesOf(points(3, 50));
    const back = type.fromBuffer(writeMetricBatch(series, HEADER).subarray(HEADER.length)) as MetricBatch;
    expect(back).toEqual(toMetricBatch(series));
    expect(back.series.reduce((sum, s) => sum + s.sample_count, 0)).toBe(50);
  });

  it('keeps series symbol ids across records, and right after the table starts over', () => {
    // Series that keep their SymbolIds (as remote-write's cached series do) are written again and again while new
    // strings fill the table past its limit (200k) and it starts over: a kept id from before must not be used after.
    const kept = seriesOf(points(5, 30)).map((s) => ({ ...s, symbolIds: { epoch: -1, ids: new Int32Array(0) } }));
    for (let round = 0; round < 90; round++) {
      const fresh = Array.from({ length: 3000 }, (_, i) => ({
        ...kept[0]!,
        symbolIds: { epoch: -1, ids: new Int32Array(0) },
        labels: { service: `r${round}-${i}` },
      }));
      // Without kept ids (JSON points), and mixed: a record's own strings decide its refs.
      const loose = fresh.slice(0, 5).map((s) => ({ ...s, symbolIds: undefined }));
      for (const batch of [kept, fresh.slice(0, 1500), kept.slice(10), fresh.slice(1500), loose, [...loose, ...kept]]) {
        const expected = Buffer.concat([HEADER, type.toBuffer(toMetricBatch(batch))]);
        expect(writeMetricBatch(batch, HEADER).equals(expected)).toBe(true);
      }
    }
    expect(kept[0]!.symbolIds.epoch).toBeGreaterThan(0);
  });

  it('writes an empty batch as the schema does', () => {
    expect(writeMetricBatch([], HEADER).equals(Buffer.concat([HEADER, type.toBuffer(toMetricBatch([]))]))).toBe(true);
  });
});
