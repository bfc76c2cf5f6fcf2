import { DAY_MS, isoTime, MAX_FUTURE_MS } from '../../lib/time.ts';

/**
 * ClickHouse refuses an insert that touches more than 100 partitions
 * (max_partitions_per_insert_block). Tables are partitioned by day or month,
 * so rows grouped into at most this many distinct days never reach it.
 */
export const MAX_DAYS_PER_INSERT = 50;

/** A row's time as epoch ms: ms (the common unit), a Date, or a bigint of epoch nanoseconds (spans: sql/row-binary.ts dateTime64). */
const toMs = (v: unknown): number => (v instanceof Date ? v.getTime() : typeof v === 'bigint' ? Number(v / 1_000_000n) : Number(v));

/** Why an event time cannot be stored in a table of this retention, or undefined if it can. */
export function timeWindowError(value: unknown, retentionDays: number, now: number): string | undefined {
  const ms = toMs(value);
  if (!Number.isFinite(ms)) return `is not a time (${String(value)})`;
  if (ms < now - retentionDays * DAY_MS) return `${isoTime(ms)} is older than the table's ${retentionDays}-day retention`;
  if (ms > now + MAX_FUTURE_MS) return `${isoTime(ms)} is more than a day in the future`;
  return undefined;
}

/** Rows cut into groups that each span at most MAX_DAYS_PER_INSERT days, in their order otherwise. */
export function splitByDay<T>(rows: T[], timeOf: (row: T) => unknown): T[][] {
  const byDay = new Map<number, T[]>();
  for (const r of rows) {
    const day = Math.floor(toMs(timeOf(r)) / DAY_MS);
    let group = byDay.get(day);
    if (!group) byDay.set(day, (group = []));
    group.push(r);
  }
  if (byDay.size <= MAX_DAYS_PER_INSERT) return [rows];
  const days = [...byDay.values()];
  const out: T[][] = [];
  for (let i = 0; i < days.length; i += MAX_DAYS_PER_INSERT) out.push(days.slice(i, i + MAX_DAYS_PER_INSERT).flat());
  return out;
}
