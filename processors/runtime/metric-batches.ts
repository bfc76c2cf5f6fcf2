import type { MetricBatch } from '../../schemas/topics.ts';

/**
 * Reading metric batch records (schemas/metric_batch.avsc) the way every
 * processor needs them: series by series, each series' samples as an index
 * range into the record's two columns, with no object per sample.
 *
 * A fleet sends one sample per series per scrape, so a record usually holds
 * each series once: per-series work is per-sample work. What a series is
 * (its id, labels object, service) is therefore built the first time the
 * series is seen and reused from then on (SeriesIdentities), found again by
 * the labels as the record spells them.
 */

/** One series, as the processors key their state by it. Shared across records: read it, never change it. */
export interface SeriesIdentity {
  /** Tenant, metric name and labels in one string: the key of per-series state (open windows, Redis baselines). */
  readonly id: string;
  readonly tenant: string;
  readonly metricName: string;
  /** Every label but `__name__`, in the order the record lists them (sorted by name, as written). */
  readonly labels: Readonly<Record<string, string>>;
  /** The same labels as JSON: what the sink writes, without stringifying them per sample. */
  readonly labelsJson: string;
  readonly service: string;
}

/**
 * The id of a series: the format detect's Redis baselines have always been
 * keyed by, so an upgrade finds the baselines it learned before.
 */
export const seriesIdOf = (tenant: string, metricName: string, labelsJson: string) => `${tenant}\u0000${metricName}\u0000${labelsJson}`;

/**
 * Identities of the series seen lately, in two generations: a lookup that
 * misses the young map and hits the old one moves the series to the young
 * one; when the young map reaches `capacity`, the old one is dropped. So a
 * steady set of up to `capacity` series is built once, and series that stop
 * (pods replaced) leave within two generations instead of staying forever.
 */
export class SeriesIdentities {
  private young = new Map<string, SeriesIdentity>();
  private old = new Map<string, SeriesIdentity>();

  constructor(private readonly capacity = 200_000) {}

  /** The identity of series `s` of `batch`. */
  of(batch: MetricBatch, s: { labels_refs: number[] }): SeriesIdentity {
    const refs = s.labels_refs;
    const symbols = batch.symbols;
    // The labels as spelled, each string after its length: label values may hold any character, NUL included.
    let key = `${batch.tenant.length}:${batch.tenant}`;
    for (let i = 1; i < refs.length; i++) {
      const symbol = symbols[refs[i]!]!;
      key += `${symbol.length}:${symbol}`;
    }
    let found = this.young.get(key);
    if (found) return found;
    found = this.old.get(key) ?? makeIdentity(batch, refs);
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, found);
    return found;
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}

function makeIdentity(batch: MetricBatch, refs: number[]): SeriesIdentity {
  const labels: Record<string, string> = {};
  // defineProperty, not assignment: a label named __proto__ stays a label.
  for (let i = 2; i < refs.length; i += 2) {
    Object.defineProperty(labels, batch.symbols[refs[i]!]!, { value: batch.symbols[refs[i + 1]!]!, enumerable: true, writable: false, configurable: false });
  }
  const metricName = batch.symbols[refs[1]!]!;
  const labelsJson = JSON.stringify(labels);
  return { id: seriesIdOf(batch.tenant, metricName, labelsJson), tenant: batch.tenant, metricName, labels, labelsJson, service: labels.service ?? '' };
}

/** The identity of every series of `batch`, in record order. */
export function identify(batch: MetricBatch, identities: SeriesIdentities): SeriesIdentity[] {
  return batch.series.map((s) => identities.of(batch, s));
}

/**
 * Calls `each` for every series of `batch` (`series`: their identities, from
 * `identify`), in record order, with the index range [from, to) of its
 * samples in `batch.timestamps` and `batch.values`. A sample's time is
 * `batch.base_timestamp + batch.timestamps[i]`.
 */
export function forEachSeries(batch: MetricBatch, series: readonly SeriesIdentity[], each: (series: SeriesIdentity, from: number, to: number) => void): void {
  let at = 0;
  for (let k = 0; k < batch.series.length; k++) {
    const count = batch.series[k]!.sample_count;
    each(series[k]!, at, at + count);
    at += count;
  }
}

/** How many samples a batch record carries. */
export const sampleCount = (batch: MetricBatch): number => batch.values.length;
