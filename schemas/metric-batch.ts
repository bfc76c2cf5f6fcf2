import type { MetricBatch, MetricPoint } from './topics.ts';
import { symbolInterner } from './symbols.ts';
import { sameLabels } from '../lib/labels.ts';

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
  /** Sorted by name (lib/labels.ts); shared, never changed. */
  labels: Record<string, string>;
  /** seriesHash of the series: its partition is `hash % partitions`, the one partitionOf(seriesKey) gives. */
  hash: number;
  timestamps: number[];
  values: number[];
  firstItem: number;
  /** Its labels as the record writer's symbol ids, kept across requests when the labels object is (see metric-batch-writer.ts). */
  symbolIds?: SymbolIds;
}

/**
 * A series' label names and values as the record writer's symbol ids (name,
 * value, name, …; metric-batch-writer.ts), kept across requests by callers
 * whose labels object lives on (remote-write series in series-cache.ts):
 * `epoch` says which of the writer's symbol tables they belong to.
 */
export interface SymbolIds {
  epoch: number;
  ids: Int32Array;
}

/**
 * FNV-1a over the series key's UTF-16 code units, as partitionOf(seriesKey(s))
 * computes it, without building the key: the same series lands on the same
 * partition whether its samples came as batches or as one record each (stale
 * markers still are). Modulo the partition count, it is the partition.
 */
export function seriesHash(tenant: string, metric_name: string, labels: Record<string, string>): number {
  let hash = fnv(0x811c9dc5, tenant);
  hash = fnv(Math.imul(hash, 0x01000193), metric_name); // the \u0000 between: FNV of 0 is a multiply
  for (const name in labels) {
    hash = fnv(Math.imul(hash, 0x01000193), name);
    hash = fnv(Math.imul(hash, 0x01000193), labels[name]!);
  }
  return hash >>> 0;
}

function fnv(hash: number, s: string): number {
  for (let i = 0; i < s.length; i++) hash = Math.imul(hash ^ s.charCodeAt(i), 0x01000193);
  return hash;
}

/**
 * A request's series, each once, in the order they first appeared: samples
 * of a series seen before join its entry. Found by their hash, then compared
 * label by label, so a series costs one hash however many samples it has.
 */
export class SeriesSet {
  readonly entries: SeriesEntry[] = [];
  private readonly byHash = new Map<number, SeriesEntry | SeriesEntry[]>();

  /** One sample of a series (labels sorted; `firstItem` is only kept for a new series). */
  add(tenant: string, metric_name: string, labels: Record<string, string>, hash: number, firstItem: number, timestamp: number, value: number): SeriesEntry {
    const found = this.find(tenant, metric_name, labels, hash);
    if (found) {
      found.timestamps.push(timestamp);
      found.values.push(value);
      return found;
    }
    // Arrays of exactly one: a first push into [] would reserve room for 17.
    return this.create({ tenant, metric_name, labels, hash, timestamps: [timestamp], values: [value], firstItem });
  }

  /** Several samples of a series: a new series takes the two arrays as they are, a known one gets them appended. */
  addAll(
    tenant: string,
    metric_name: string,
    labels: Record<string, string>,
    hash: number,
    firstItem: number,
    timestamps: number[],
    values: number[],
  ): SeriesEntry {
    const found = this.find(tenant, metric_name, labels, hash);
    if (found) {
      for (let i = 0; i < timestamps.length; i++) {
        found.timestamps.push(timestamps[i]!);
        found.values.push(values[i]!);
      }
      return found;
    }
    return this.create({ tenant, metric_name, labels, hash, timestamps, values, firstItem });
  }

  private find(tenant: string, metric_name: string, labels: Record<string, string>, hash: number): SeriesEntry | undefined {
    const found = this.byHash.get(hash & 0x3fffffff); // a small integer: V8's Maps hash those cheapest
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return sameSeries(found, tenant, metric_name, labels) ? found : undefined;
    for (const e of found) if (sameSeries(e, tenant, metric_name, labels)) return e;
    return undefined;
  }

  private create(entry: SeriesEntry): SeriesEntry {
    const key = entry.hash & 0x3fffffff;
    const there = this.byHash.get(key);
    if (there === undefined) this.byHash.set(key, entry);
    else if (Array.isArray(there)) there.push(entry);
    else this.byHash.set(key, [there, entry]);
    this.entries.push(entry);
    return entry;
  }
}

function sameSeries(e: SeriesEntry, tenant: string, metric_name: string, labels: Record<string, string>): boolean {
  return e.tenant === tenant && e.metric_name === metric_name && sameLabels(e.labels, labels);
}

/** Points as series entries: the shape the publisher takes. */
export function seriesOf(points: readonly MetricPoint[]): SeriesEntry[] {
  const set = new SeriesSet();
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    set.add(p.tenant, p.metric_name, p.labels, seriesHash(p.tenant, p.metric_name, p.labels), i, p.timestamp, p.value);
  }
  return set.entries;
}

/** Series entries back as points, series after series (for tests and tools that want one object per sample). */
export function pointsOfSeries(series: readonly SeriesEntry[]): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const s of series) {
    for (let i = 0; i < s.timestamps.length; i++) {
      points.push({ tenant: s.tenant, timestamp: s.timestamps[i]!, metric_name: s.metric_name, value: s.values[i]!, labels: s.labels });
    }
  }
  return points;
}

/** Series grouped by tenant and partition, in the order they first appeared. */
export function partitionGroups(series: readonly SeriesEntry[], partitions: number): { partition: number; series: SeriesEntry[] }[] {
  const groups: { partition: number; tenant: string; series: SeriesEntry[] }[] = [];
  // Almost always one tenant: a group per partition, found by index; another tenant's series search the list.
  const byPartition: ({ partition: number; tenant: string; series: SeriesEntry[] } | undefined)[] = new Array(partitions);
  for (const s of series) {
    const partition = s.hash % partitions;
    let group = byPartition[partition];
    if (group === undefined || group.tenant !== s.tenant) {
      group = groups.find((g) => g.partition === partition && g.tenant === s.tenant);
      if (!group) groups.push((group = { partition, tenant: s.tenant, series: [] }));
      byPartition[partition] = group;
    }
    group.series.push(s);
  }
  return groups.map((g) => ({ partition: g.partition, series: g.series }));
}

/** A request's points grouped by tenant and partition, each series once, in the order it first appeared. */
export function groupByPartition(points: readonly MetricPoint[], partitions: number): { partition: number; series: SeriesEntry[] }[] {
  return partitionGroups(seriesOf(points), partitions);
}

/** The record for these series (one tenant): symbols interned in order of first use, samples in two columns. */
export function toMetricBatch(series: readonly SeriesEntry[]): MetricBatch {
  const { symbols, ref } = symbolInterner();
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
