import { labelsOf } from '../../schemas/log-batch.ts';
import type { LogBatch } from '../../schemas/topics.ts';

/**
 * Reading log batch records (schemas/log_batch.avsc) the way processors need
 * them: stream by stream, each stream's lines as an index range into the
 * record's three columns, with no object per line. What a stream is (its
 * service and labels) is built once per stream per record: a stream usually
 * carries many lines, unlike a metric series (metric-batches.ts), so there is
 * no cache across records.
 */

/** One stream of a record. Read it, never change it: its labels object is shared by its lines. */
export interface LogStreamView {
  readonly tenant: string;
  readonly service: string;
  /** The stream's labels but its service, sorted by name as written. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Calls `each` for every stream of `batch`, in record order, with the index
 * range [from, to) of its lines in `batch.timestamps`, `batch.levels` and
 * `batch.messages`. A line's time is `batch.base_timestamp + batch.timestamps[i]`.
 */
export function forEachStream(batch: LogBatch, each: (stream: LogStreamView, from: number, to: number) => void): void {
  let at = 0;
  for (const s of batch.streams) {
    const stream: LogStreamView = { tenant: batch.tenant, service: batch.symbols[s.service_ref]!, labels: labelsOf(batch, s.labels_refs) };
    each(stream, at, at + s.entry_count);
    at += s.entry_count;
  }
}

/** How many lines a batch record carries. */
export const entryCount = (batch: LogBatch): number => batch.messages.length;
