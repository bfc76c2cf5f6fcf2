/**
 * Recent series by the bytes of their labels on the wire. A Prometheus sender
 * sends the same series every scrape interval, each time with the same label
 * bytes, so a series seen before costs a hash and a comparison of those bytes
 * instead of decoding its strings, building, sorting and checking its labels
 * and hashing its series key again (toMetricSeries keeps its conclusions on
 * the SeriesId). Prometheus's own receiver does the same through its head's
 * series map.
 *
 * Two generations bound the memory: once the current one holds GENERATION
 * series it becomes the previous one and the one before is dropped; a series
 * found in the previous generation moves to the current. Series sent at least
 * once per generation stay; more active series than two generations hold
 * only cost what they cost without a cache. About 700 bytes a series.
 */

import type { SymbolIds } from '../../schemas/metric-batch.ts';

/** A series' identity as decoded: the same object for as long as the cache keeps its bytes. */
export interface SeriesId {
  readonly metric_name: string;
  /** Every label but `__name__`, keys sorted; shared, never changed. */
  readonly labels: Record<string, string>;
  /** What toMetricSeries concluded for `tenant` (the last tenant that sent this series). */
  tenant?: string;
  /** The labels to write (service added), or what is wrong with the series. */
  written?: Record<string, string> | string;
  /** seriesHash of (tenant, metric_name, written). */
  hash?: number;
  /** `written` as the record writer's symbol ids, filled by the writer (metric-batch-writer.ts); only for series the cache keeps. */
  symbolIds?: SymbolIds;
}

const NO_IDS = new Int32Array(0);

interface Cached {
  key: Buffer;
  id: SeriesId;
}

/** Series per generation. */
export const GENERATION = 25_000;
/** Label bytes longer than this are not kept: such series are rare, and their copies would crowd out many others. */
const MAX_KEY_BYTES = 2048;

export class SeriesCache {
  private current = new Map<number, Cached | Cached[]>();
  private previous = new Map<number, Cached | Cached[]>();
  private size = 0;

  constructor(private readonly generation = GENERATION) {}

  /** The series whose label bytes are buf[start, end), if it was kept; `view` is a DataView of `buf`. */
  find(buf: Buffer, view: DataView, start: number, end: number): SeriesId | undefined {
    if (end - start > MAX_KEY_BYTES) return undefined;
    const hash = hashBytes(view, buf, start, end);
    const found = lookup(this.current, hash, buf, start, end);
    if (found) return found;
    const old = lookup(this.previous, hash, buf, start, end);
    if (old) this.keep(hash, buf, start, end, old);
    return old;
  }

  /** Keeps `id` as the series of label bytes buf[start, end). */
  add(buf: Buffer, view: DataView, start: number, end: number, id: SeriesId): void {
    if (end - start > MAX_KEY_BYTES) return;
    id.symbolIds = { epoch: -1, ids: NO_IDS };
    this.keep(hashBytes(view, buf, start, end), buf, start, end, id);
  }

  private keep(hash: number, buf: Buffer, start: number, end: number, id: SeriesId): void {
    if (this.size >= this.generation) {
      this.previous = this.current;
      this.current = new Map();
      this.size = 0;
    }
    const key = Buffer.allocUnsafe(end - start);
    buf.copy(key, 0, start, end);
    const cached = { key, id };
    const there = this.current.get(hash);
    if (there === undefined) this.current.set(hash, cached);
    else if (Array.isArray(there)) there.push(cached);
    else this.current.set(hash, [there, cached]);
    this.size++;
  }
}

function lookup(map: Map<number, Cached | Cached[]>, hash: number, buf: Buffer, start: number, end: number): SeriesId | undefined {
  const there = map.get(hash);
  if (there === undefined) return undefined;
  if (!Array.isArray(there)) return sameBytes(there.key, buf, start, end) ? there.id : undefined;
  for (const c of there) if (sameBytes(c.key, buf, start, end)) return c.id;
  return undefined;
}

const sameBytes = (key: Buffer, buf: Buffer, start: number, end: number) => key.length === end - start && buf.compare(key, 0, key.length, start, end) === 0;

/**
 * A hash of the bytes, 4 at a time (a fifth of the time of FNV byte by byte:
 * it ran for every series of every request), mixed at the end, as a small
 * integer: V8's Maps hash those cheapest.
 */
function hashBytes(view: DataView, buf: Buffer, start: number, end: number): number {
  let hash = 0x811c9dc5 ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4) hash = Math.imul(hash ^ view.getInt32(i, true), 0x01000193);
  for (; i < end; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193);
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x5bd1e995);
  hash ^= hash >>> 13;
  return hash & 0x3fffffff;
}
