import type { MetricRollup, RollupBatch } from './topics.ts';

/**
 * Closed windows as batch records (rollup_batch.avsc) and back. A burst of
 * windows closing together (every series of a partition, once a minute) is
 * thousands of records otherwise, and each Kafka record costs the producer,
 * the broker and every consumer more than the window it carries.
 */

/** The windows grouped by tenant and service, in the order each group first appears; windows keep their order. */
export function rollupBatchesOf(windows: readonly MetricRollup[]): RollupBatch[] {
  const batches = new Map<string, RollupBatch>();
  for (const w of windows) {
    const key = `${w.tenant}\u0000${w.service}`;
    let batch = batches.get(key);
    if (!batch) batches.set(key, (batch = { tenant: w.tenant, service: w.service, windows: [] }));
    batch.windows.push({
      metric_name: w.metric_name,
      labels: w.labels,
      window_start: w.window_start,
      window_end: w.window_end,
      count: w.count,
      sum: w.sum,
      min: w.min,
      max: w.max,
      p50: w.p50,
      p90: w.p90,
      p95: w.p95,
      p99: w.p99,
    });
  }
  return [...batches.values()];
}

/** The batch cut in two by its windows, for a record over the size limit; undefined for a single window. */
export function halveRollupBatch(batch: RollupBatch): [RollupBatch, RollupBatch] | undefined {
  if (batch.windows.length < 2) return undefined;
  const mid = Math.ceil(batch.windows.length / 2);
  return [
    { ...batch, windows: batch.windows.slice(0, mid) },
    { ...batch, windows: batch.windows.slice(mid) },
  ];
}

/** A batch's windows as rollup records, in record order. */
export function rollupsOf(batch: RollupBatch): MetricRollup[] {
  return batch.windows.map((w) => ({ tenant: batch.tenant, service: batch.service, ...w }));
}
