import { partitionOf, seriesKey, type MetricBatch, type MetricPoint } from './topics.ts';

/**
 * Metric samples as batch records (metric_batch.avsc): what the publisher
 * builds from a request's points, and what the processors read back. A
 * request's series are grouped by the partition of their series key, so a
 * series' samples stay on one partition (and one consumer's state) whichever
 * request carried them; within a partition each series is written once, its
 * labels as references into the record's symbol table.
 */

/** One series of a batch being built, with the request index of its first point (for errors that name an item). */
export interface SeriesEntry {
  tenant: string;
  metric_name: string;
  labels: Record<string, string>;
  timestamps: number[];
  values: number[];
  firstItem: number;
}

/** A request's points grouped by tenant and partition, each series once, in the order it first appeared. */
export function groupByPartition(points: readonly MetricPoint[], partitions: number): { partition: number; series: SeriesEntry[] }[] {
  const groups = new Map<string, { partition: number; series: Map<string, SeriesEntry> }>();
  points.forEach((p, i) => {
    const key = seriesKey(p);
    const partition = partitionOf(key, partitions);
    const groupKey = `${partition}\u0000${p.tenant}`;
    let group = groups.get(groupKey);
    if (!group) groups.set(groupKey, (group = { partition, series: new Map() }));
    let entry = group.series.get(key);
    if (!entry) group.series.set(key, (entry = { tenant: p.tenant, metric_name: p.metric_name, labels: p.labels, timestamps: [], values: [], firstItem: i }));
    entry.timestamps.push(p.timestamp);
    entry.values.push(p.value);
  });
  return [...groups.values()].map((g) => ({ partition: g.partition, series: [...g.series.values()] }));
}

/** The record for these series (one tenant): symbols interned in order of first use, samples in two columns. */
export function toMetricBatch(series: readonly SeriesEntry[]): MetricBatch {
  const symbols: string[] = [];
  const refOf = new Map<string, number>();
  const ref = (s: string) => {
    let r = refOf.get(s);
    if (r === undefined) {
      r = symbols.length;
      refOf.set(s, r);
      symbols.push(s);
    }
    return r;
  };
  const base = series[0]?.timestamps[0] ?? 0;
  const batch: MetricBatch = { tenant: series[0]?.tenant ?? '', base_timestamp: base, symbols, series: [], timestamps: [], values: [] };
  for (const s of series) {
    const refs = [ref('__name__'), ref(s.metric_name)];
    for (const name in s.labels) refs.push(ref(name), ref(s.labels[name]!));
    batch.series.push({ labels_refs: refs, sample_count: s.timestamps.length });
    for (let i = 0; i < s.timestamps.length; i++) {
      batch.timestamps.push(s.timestamps[i]! - base);
      batch.values.push(s.values[i]!);
    }
  }
  return batch;
}

/**
 * The series cut in two, for a record that encodes over the size limit: by
 * series when there are several, else the one series' samples (a series over
 * two records is still one series: rows are keyed by content). Undefined for
 * a single sample, which cannot be cut.
 */
export function halve(series: readonly SeriesEntry[]): [SeriesEntry[], SeriesEntry[]] | undefined {
  if (series.length > 1) {
    const mid = Math.ceil(series.length / 2);
    return [series.slice(0, mid), series.slice(mid)];
  }
  const [s] = series;
  if (!s || s.timestamps.length < 2) return undefined;
  const mid = Math.ceil(s.timestamps.length / 2);
  const part = (from: number, to: number): SeriesEntry => ({ ...s, timestamps: s.timestamps.slice(from, to), values: s.values.slice(from, to) });
  return [[part(0, mid)], [part(mid, s.timestamps.length)]];
}

/**
 * The points of a batch record, in record order. The labels object is shared
 * by the samples of one series (labels in the order the record lists them,
 * sorted as they were written): read it, never change it.
 */
export function pointsOf(batch: MetricBatch): MetricPoint[] {
  const points: MetricPoint[] = [];
  let at = 0;
  for (const s of batch.series) {
    const refs = s.labels_refs;
    const metric_name = batch.symbols[refs[1]!]!;
    const labels: Record<string, string> = {};
    // defineProperty, not assignment: a label named __proto__ stays a label.
    for (let i = 2; i < refs.length; i += 2) {
      Object.defineProperty(labels, batch.symbols[refs[i]!]!, { value: batch.symbols[refs[i + 1]!]!, enumerable: true, writable: true, configurable: true });
    }
    for (let k = 0; k < s.sample_count; k++, at++) {
      points.push({ tenant: batch.tenant, timestamp: batch.base_timestamp + batch.timestamps[at]!, metric_name, value: batch.values[at]!, labels });
    }
  }
  return points;
}
