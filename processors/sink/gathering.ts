import { DAY_MS } from '../../lib/time.ts';
import type { RowBinaryBatch } from '../../sql/row-binary.ts';
import type { Decoded } from '../runtime/processor.ts';

/** A row for ClickHouse and the record it came from (to dead-letter if ClickHouse refuses it). */
export interface Row {
  d: Decoded;
  row: Record<string, unknown>;
}

/**
 * Rows of one topic gathered for one insert, already encoded, with the
 * records they came from (kept rather than a row object per sample: a
 * record holds its samples compactly, and the rows are made again from it
 * only if ClickHouse refuses the insert) and what they cover of each
 * partition: the first offset (the partition may commit no further until
 * they are written) and the offset after the last.
 */
export class Gathering {
  readonly records: Decoded[] = [];
  /** Earliest and latest event time of its rows: a gathering spanning many days is split by day (see splitByDay). */
  minTime = Number.POSITIVE_INFINITY;
  maxTime = Number.NEGATIVE_INFINITY;
  readonly partitions = new Map<number, { from: bigint; next: bigint }>();
  /** When its first batch came: the gathering is due FLUSH_MS after that. */
  private since: number | undefined;
  /** Failed writes (retried at each flush; isolated as bad data after the last attempt). */
  attempts = 0;

  constructor(readonly payload: RowBinaryBatch) {}

  get rows(): number {
    return this.payload.rows;
  }

  /** An event time of a row encoded into the payload. */
  saw(time: number): void {
    if (time < this.minTime) this.minTime = time;
    if (time > this.maxTime) this.maxTime = time;
  }

  /** Whether its rows span few enough days for one insert (ClickHouse refuses one touching over 100 partitions). */
  fitsOneInsert(maxDays: number): boolean {
    return Math.floor(this.maxTime / DAY_MS) - Math.floor(this.minTime / DAY_MS) < maxDays;
  }

  /** Milliseconds since its first batch came (0 while it has none). */
  age(): number {
    return this.since === undefined ? 0 : Date.now() - this.since;
  }

  /** The records of partition `p` from `from` to `next` (exclusive) are here, or refused. */
  covers(partition: number, from: bigint, next: bigint): void {
    this.since ??= Date.now();
    const had = this.partitions.get(partition);
    this.partitions.set(partition, { from: had && had.from < from ? had.from : from, next: had && had.next > next ? had.next : next });
  }
}

/**
 * A topic's gatherings: the open one takes rows; sealed ones wait to be
 * written, in order. What a partition may commit follows from all of them.
 */
export class TopicGatherings {
  private readonly list: Gathering[] = [];
  private readonly sealedAt = new Set<Gathering>();

  /** The gathering taking rows now, opened with `open` if there is none. */
  current(open: () => Gathering): Gathering {
    let g = this.open();
    if (!g) this.list.push((g = open()));
    return g;
  }

  /** The gathering taking rows now, if any. */
  open(): Gathering | undefined {
    const g = this.list.at(-1);
    return g && !this.sealedAt.has(g) ? g : undefined;
  }

  /** Seals the open gathering (if it has anything) and returns every sealed one, oldest first. */
  seal(): Gathering[] {
    const last = this.list.at(-1);
    if (last && !this.sealedAt.has(last) && last.partitions.size > 0) this.sealedAt.add(last);
    return this.sealed();
  }

  /** The gatherings sealed and not yet written, oldest first. */
  sealed(): Gathering[] {
    return this.list.filter((g) => this.sealedAt.has(g));
  }

  /** A sealed gathering was written (or its bad rows refused): it no longer holds anything back. */
  written(g: Gathering): void {
    const at = this.list.indexOf(g);
    if (at >= 0) this.list.splice(at, 1);
    this.sealedAt.delete(g);
  }

  /** The first offset of `partition` not yet written, if any gathering holds one. */
  pendingFrom(partition: number): bigint | undefined {
    let min: bigint | undefined;
    for (const g of this.list) {
      const p = g.partitions.get(partition);
      if (p && (min === undefined || p.from < min)) min = p.from;
    }
    return min;
  }

  /** Rows gathered and not yet written. */
  get rows(): number {
    let n = 0;
    for (const g of this.list) n += g.rows;
    return n;
  }
}
