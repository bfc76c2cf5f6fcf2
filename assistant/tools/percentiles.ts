/**
 * Percentiles of merged DDSketch buckets in SQL, by the rule of
 * metric_rollups_hourly (sql/migrations/0011) and service_latency (0022):
 * the first bucket whose cumulative count exceeds q·(n − 1), read at its
 * midpoint γ^k · 2 / (1 + γ) (bucket positions are ±(1,000,000 + k), 0 for
 * zero; processors/runtime/sketch.ts). Merging the buckets of every series
 * and window first makes a p95 over an interval the p95 of its values, not
 * an average of per-window p95s.
 *
 * `merged` is a tuple (positions, counts) sorted by position, as
 * `sumMap(positions, counts)` gives it; `n` the values' count; `gamma` the
 * sketch's growth factor. The result is an Array(Float64), one per quantile
 * (0 when n is 0: callers show no percentile then).
 */
export function bucketQuantiles(merged: string, n: string, gamma: string, quantiles: readonly number[]): string {
  const at = `arrayMap(q -> ${merged}.1[arrayFirstIndex(c -> c > q * (${n} - 1), arrayCumSum(${merged}.2))], [${quantiles.join(', ')}])`;
  return `arrayMap(p -> multiIf(p > 0, pow(${gamma}, p - 1000000) * 2 / (1 + ${gamma}), p < 0, -pow(${gamma}, -p - 1000000) * 2 / (1 + ${gamma}), 0), ${at})`;
}
