import { DDSketch } from '@datadog/sketches-js';

/**
 * A DDSketch's buckets as one ClickHouse Map(Int32, UInt64), ordered by value:
 * positive values at 1,000,000 + k, negative ones at −(1,000,000 + k), zero
 * at 0 (k is the sketch's bucket key: value ≈ γ^k). The hourly view in
 * sql/migrations/0011 merges these and reads percentiles back with the same rule.
 */
const SHIFT = 1_000_000;

interface Store {
  bins: number[];
  offset: number;
}

/** The sketch's key mapping (value → bucket key), as `DDSketch` builds it for this accuracy. */
export type KeyMapping = DDSketch['mapping'];
export const keyMapping = (relativeAccuracy: number): KeyMapping => new DDSketch({ relativeAccuracy }).mapping;

export function sketchBuckets(sketch: DDSketch): Map<number, number> {
  const out = new Map<number, number>();
  const add = (store: Store, sign: 1 | -1) => {
    store.bins.forEach((count, i) => {
      if (count > 0) out.set(sign * (SHIFT + i + store.offset), count);
    });
  };
  add(sketch.store as unknown as Store, 1);
  add(sketch.negativeStore as unknown as Store, -1);
  if (sketch.zeroCount > 0) out.set(0, sketch.zeroCount);
  return out;
}

/**
 * The buckets a DDSketch with `mapping` would hold after taking `values`,
 * without building one: the same bucket rule as `DDSketch.accept` (|v| at or
 * under `minPossible` counts as zero), so the hourly merge cannot tell a
 * window summed this way from one that went through a sketch.
 */
export function valueBuckets(values: readonly number[], mapping: KeyMapping): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of values) {
    const bucket = v > mapping.minPossible ? SHIFT + mapping.key(v) : v < -mapping.minPossible ? -(SHIFT + mapping.key(-v)) : 0;
    out.set(bucket, (out.get(bucket) ?? 0) + 1);
  }
  return out;
}

export const sketchGamma = (sketch: DDSketch): number => sketch.mapping.gamma;
