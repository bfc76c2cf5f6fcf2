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
const seriesIdOf = (tenant: string, metricName: string, labelsJson: string) => `${tenant}\u0000${metricName}\u0000${labelsJson}`;

/**
 * Identities of the series seen lately. Found by a hash of the labels as the
 * record spells them: each symbol of a record is hashed once, a series' hash
 * combines its symbols' hashes, and a hit is confirmed string by string
 * (no key string is built per series: that concatenation and its garbage
 * were a third of the rollup's time). Two series with one hash are told
 * apart by a slower map keyed by their whole text.
 *
 * Kept in two generations: a series found in the old one moves to the young
 * one; when the young one reaches `capacity`, the old one is dropped. So a
 * steady set of up to `capacity` series is built once, and series that stop
 * (pods replaced) leave within two generations instead of staying forever.
 */
export class SeriesIdentities {
  private young = new Map<number, Known>();
  private old = new Map<number, Known>();
  /** Series whose hash another series had first (rare), by their whole text. */
  private collided = new Map<string, Known>();

  /** `hash`: a string's hash; tests pass a poor one to exercise collisions. */
  constructor(
    private readonly capacity = 200_000,
    private readonly hash: (s: string) => number = hashString,
  ) {}

  /** Records already identified: processors of one process share a decoded record (shared-decodes.ts), and so its identities. */
  private identified = new WeakMap<MetricBatch, SeriesIdentity[]>();

  /** The identity of every series of `batch`, in record order. */
  identify(batch: MetricBatch): SeriesIdentity[] {
    let out = this.identified.get(batch);
    if (!out) this.identified.set(batch, (out = this.identifyAll(batch)));
    return out;
  }

  private identifyAll(batch: MetricBatch): SeriesIdentity[] {
    const symbols = batch.symbols;
    const hashes = new Array<number>(symbols.length);
    for (let i = 0; i < symbols.length; i++) hashes[i] = this.hash(symbols[i]!);
    const tenantHash = this.hash(batch.tenant);
    const out = new Array<SeriesIdentity>(batch.series.length);
    for (let k = 0; k < batch.series.length; k++) {
      const refs = batch.series[k]!.labels_refs;
      let h = tenantHash;
      for (let i = 1; i < refs.length; i++) h = Math.imul(h ^ hashes[refs[i]!]!, 0x01000193) + i;
      out[k] = this.find(h >>> 0, batch, refs);
    }
    return out;
  }

  private find(hash: number, batch: MetricBatch, refs: number[]): SeriesIdentity {
    let known = this.young.get(hash);
    if (known && spells(known, batch, refs)) return known;
    if (known) return this.findCollided(batch, refs);
    known = this.old.get(hash);
    if (known && !spells(known, batch, refs)) return this.findCollided(batch, refs);
    known ??= makeIdentity(batch, refs);
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(hash, known);
    return known;
  }

  private findCollided(batch: MetricBatch, refs: number[]): SeriesIdentity {
    // Each string after its length: label values may hold any character, so no separator is safe.
    let key = `${batch.tenant.length}:${batch.tenant}`;
    for (let i = 1; i < refs.length; i++) key += `${batch.symbols[refs[i]!]!.length}:${batch.symbols[refs[i]!]}`;
    let known = this.collided.get(key);
    if (!known) {
      if (this.collided.size >= this.capacity) this.collided.clear();
      this.collided.set(key, (known = makeIdentity(batch, refs)));
    }
    return known;
  }

  get size(): number {
    return this.young.size + this.old.size + this.collided.size;
  }
}

/**
 * A series' identity. Lean, as there is one per active series (100k in
 * bench:memory): the labels JSON is made again when asked (its text is in
 * `id` already), and a hash hit is confirmed against the labels object, not
 * a copy of the strings it was made from.
 */
class Known implements SeriesIdentity {
  constructor(
    readonly id: string,
    readonly tenant: string,
    readonly metricName: string,
    readonly labels: Readonly<Record<string, string>>,
    readonly service: string,
  ) {}

  get labelsJson(): string {
    return JSON.stringify(this.labels);
  }
}

/** Whether `known` is the series `refs` spells in `batch`: same tenant, metric name, and label pairs in the same order. */
function spells(known: Known, batch: MetricBatch, refs: number[]): boolean {
  if (known.tenant !== batch.tenant || known.metricName !== batch.symbols[refs[1]!]) return false;
  let i = 2;
  for (const name in known.labels) {
    if (i >= refs.length || name !== batch.symbols[refs[i]!] || known.labels[name] !== batch.symbols[refs[i + 1]!]) return false;
    i += 2;
  }
  return i === refs.length;
}

/**
 * The process's series identities, shared by the processors that read
 * samples (sink, rollup, detect): run together, they hold each series once.
 */
export const seriesIdentities = new SeriesIdentities();

/** FNV-1a over UTF-16 code units: cheap, and only ever confirmed, never trusted. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

function makeIdentity(batch: MetricBatch, refs: number[]): Known {
  const labels: Record<string, string> = {};
  // defineProperty, not assignment: a label named __proto__ stays a label.
  for (let i = 2; i < refs.length; i += 2) {
    Object.defineProperty(labels, batch.symbols[refs[i]!]!, { value: batch.symbols[refs[i + 1]!]!, enumerable: true, writable: false, configurable: false });
  }
  const metricName = batch.symbols[refs[1]!]!;
  return new Known(seriesIdOf(batch.tenant, metricName, JSON.stringify(labels)), batch.tenant, metricName, labels, labels.service ?? '');
}

/** The identity of every series of `batch`, in record order. */
export const identify = (batch: MetricBatch, identities: SeriesIdentities): SeriesIdentity[] => identities.identify(batch);

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
