import type { IHeaders, KafkaMessage } from 'kafkajs';
import { DAY_MS } from '../../lib/time.ts';
import type { RowBinaryBatch } from '../../sql/row-binary.ts';
import type { Rejected } from '../runtime/dead-letter.ts';
import type { Decoded } from '../runtime/processor.ts';

/** A row for ClickHouse and the record it came from (to dead-letter if ClickHouse refuses it). */
export interface Row {
  d: Decoded;
  row: Record<string, unknown>;
}

/** A gathered record as Kafka gave it, its bytes copied (see Gathering). */
export interface KeptRecord {
  partition: number;
  offset: string;
  message: KafkaMessage;
}

/**
 * Rows of one topic gathered for one insert, already encoded, with the
 * records they came from and what they cover of each partition: the first
 * offset (the partition may commit no further until they are written) and
 * the offset after the last.
 *
 * The records are kept only for the rare insert ClickHouse refuses or that
 * must be cut by day: their rows are then made again from them, decoded
 * again (see sink/processor.ts). So a record is kept as its bytes, copied:
 * decoded, a 50k-row gathering held ~45 MB of record objects, and kafkajs's
 * message bytes are views of its whole fetch response, which they kept alive
 * (bench:memory).
 */
export class Gathering {
  readonly records: KeptRecord[] = [];
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
 * written, in order; written ones with refused records wait for those to be
 * dead-lettered. What a partition may commit follows from all of them: a
 * gathering holds its partitions back until it is written and its refused
 * records are on the dead-letter topic, so no commit ever passes a record
 * that is neither.
 */
export class TopicGatherings {
  private readonly list: Gathering[] = [];
  private readonly sealedAt = new Set<Gathering>();
  private readonly refusing = new Map<Gathering, Rejected[]>();
  /** Per partition, the offset after the last record of the gatherings let go since the last takeCovered. */
  private readonly covered = new Map<number, bigint>();

  /** The gathering taking rows now, opened with `open` if there is none. */
  current(open: () => Gathering): Gathering {
    let g = this.open();
    if (!g) this.list.push((g = open()));
    return g;
  }

  /** The gathering taking rows now, if any. */
  open(): Gathering | undefined {
    const g = this.list.at(-1);
    return g && !this.sealedAt.has(g) && !this.refusing.has(g) ? g : undefined;
  }

  /** Seals the open gathering (if it has anything) and returns every sealed one, oldest first. */
  seal(): Gathering[] {
    const last = this.open();
    if (last && last.partitions.size > 0) this.sealedAt.add(last);
    return this.sealed();
  }

  /** The gatherings sealed and not yet written, oldest first. */
  sealed(): Gathering[] {
    return this.list.filter((g) => this.sealedAt.has(g));
  }

  /**
   * A sealed gathering was written, but for the records in `refused` (bad
   * data). With none it is let go at once; otherwise it holds its partitions
   * until `release`, once they are dead-lettered.
   */
  written(g: Gathering, refused: Rejected[]): void {
    this.sealedAt.delete(g);
    if (refused.length > 0) this.refusing.set(g, refused);
    else this.letGo(g);
  }

  /** Written gatherings whose refused records still wait for the dead-letter topic. */
  refusals(): [Gathering, Rejected[]][] {
    return [...this.refusing];
  }

  /** The refused records of a written gathering are dead-lettered: it no longer holds anything back. */
  release(g: Gathering): void {
    this.refusing.delete(g);
    this.letGo(g);
  }

  /** Per partition, the offset after what the gatherings let go since the last call covered. */
  takeCovered(): Map<number, bigint> {
    const taken = new Map(this.covered);
    this.covered.clear();
    return taken;
  }

  /** The first offset of `partition` not yet written (or written and refused, not yet dead-lettered), if any. */
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
    for (const g of this.list) if (!this.refusing.has(g)) n += g.rows;
    return n;
  }

  private letGo(g: Gathering): void {
    const at = this.list.indexOf(g);
    if (at >= 0) this.list.splice(at, 1);
    for (const [p, { next }] of g.partitions) if (next > (this.covered.get(p) ?? -1n)) this.covered.set(p, next);
  }
}

/** `d` as a gathering keeps it: the Kafka record only, every byte copied out of the fetch response. */
export function keptRecord(d: Decoded): KeptRecord {
  const m = d.message;
  const message: KafkaMessage = {
    key: copied(m.key),
    value: copied(m.value),
    timestamp: m.timestamp,
    attributes: m.attributes,
    offset: m.offset,
    ...(m.headers ? { headers: copiedHeaders(m.headers) } : {}),
  } as KafkaMessage;
  return { partition: d.partition, offset: d.offset, message };
}

const copied = (b: Buffer | null | undefined): Buffer | null => (b ? Buffer.from(b) : null);

const copiedHeader = <T>(x: T): T => (Buffer.isBuffer(x) ? (Buffer.from(x) as T) : x);
// fromEntries: a header named __proto__ stays a header.
const copiedHeaders = (headers: IHeaders): IHeaders =>
  Object.fromEntries(Object.entries(headers).map(([name, v]) => [name, Array.isArray(v) ? v.map(copiedHeader) : copiedHeader(v)]));
