import type { DDSketch } from '@datadog/sketches-js';

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

export function sketchBuckets(sketch: DDSketch): Record<number, number> {
  const out: Record<number, number> = {};
  const add = (store: Store, sign: 1 | -1) => {
    store.bins.forEach((count, i) => {
      if (count > 0) out[sign * (SHIFT + i + store.offset)] = count;
    });
  };
  add(sketch.store as unknown as Store, 1);
  add(sketch.negativeStore as unknown as Store, -1);
  if (sketch.zeroCount > 0) out[0] = sketch.zeroCount;
  return out;
}

export const sketchGamma = (sketch: DDSketch): number => sketch.mapping.gamma;
