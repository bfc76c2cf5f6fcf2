import type { ClickHouseClient } from '@clickhouse/client';
import { describeError } from '../../lib/errors.ts';
import { classifyClickHouseError } from '../../sql/errors.ts';
import { RowBinaryError, rowBinaryWriter } from '../../sql/row-binary.ts';
import type { Rejected } from '../runtime/dead-letter.ts';
import type { BatchHandler, Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { RAW_TABLES, type SinkTable } from './rows.ts';
import { splitByDay, timeWindowError } from './time-window.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { sinkConfig } from './config.ts';

/**
 * The sink: records into ClickHouse, one insert per partition batch (more
 * when the batch spans many days: see splitByDay).
 *
 * Rows go as RowBinaryWithNamesAndTypes (sql/row-binary.ts): on the embedded
 * engine about half the CPU of JSONEachRow per row, the engine's JSON parser
 * being most of the sink's cost (`npm run bench:clickhouse-insert`). The
 * header names each column with the table's own type (see rowBinaryWriter).
 *
 * What ClickHouse refuses is sorted by what its error means
 * (sql/errors.ts): bad data is isolated by halving the batch until the bad
 * records stand alone, and they are dead-lettered while the rest is written;
 * transient trouble is thrown, and the runtime retries the partition; an
 * unknown error is thrown too, until the runtime's last attempt, when it is
 * isolated like bad data, so one odd record never holds its partition. A
 * record with a sample the encoder cannot write, or outside its table's
 * retention, is dead-lettered whole; its other rows are still written (rows
 * are keyed by content, so replaying it from the dead-letter topic writes
 * them again harmlessly).
 */
export function sinkProcessor(ch: ClickHouseClient, groupId: string): ProcessorSpec {
  const writer = rowBinaryWriter(ch);
  // Rows that cannot be encoded were set aside before.
  const write: Write = (target, rows) =>
    writer.insertRows(
      target.table,
      rows.map((r) => r.row),
    );

  const handle: BatchHandler = async (batch, { finalAttempt }) => {
    const target = RAW_TABLES[batch[0]!.topic];
    if (!target) throw new Error(`sink has no table for topic ${batch[0]!.topic}`);
    const probe = (await writer.encoder(target.table)).batch();
    const refused = new Map<Decoded, string>();
    const rows: Row[] = [];
    const records: Record<string, unknown>[] = [];
    const now = Date.now();
    const { column, retentionDays } = target.time;
    for (const d of batch) {
      records.length = 0;
      target.rows(d, records);
      for (const row of records) {
        const outside = timeWindowError(row[column], retentionDays, now);
        if (outside) {
          refused.set(d, `event time: ${column} ${outside}`);
          continue;
        }
        try {
          probe.add(row);
        } catch (err) {
          if (!(err instanceof RowBinaryError)) throw err;
          refused.set(d, `encode: ${err.message}`);
          continue;
        }
        rows.push({ d, row });
      }
    }
    const rejected: Rejected[] = [...refused].map(([d, reason]) => ({ message: d.message, partition: d.partition, reason }));
    const days = splitByDay(rows, (r) => r.row[column]);
    // The common case, one insert: the payload already built while checking the rows.
    if (days.length === 1 && rows.length > 0) {
      try {
        await writer.insert(target.table, probe.bytes());
        return { rejected };
      } catch (err) {
        if (!isolating(err, finalAttempt)) throw err;
      }
    }
    for (const part of days) await insertIsolatingBadRows(write, target, part, rejected, finalAttempt);
    return { rejected };
  };
  return { name: 'sink', groupId, topics: Object.keys(RAW_TABLES), handle, close: async () => writer.close() };
}

interface Row {
  d: Decoded;
  row: Record<string, unknown>;
}
type Write = (target: SinkTable, rows: Row[]) => Promise<void>;

/** Whether a failed insert is cut down to find its bad rows (bad data, or anything unknown on the last attempt), or thrown to be retried. */
const isolating = (err: unknown, finalAttempt: boolean) => {
  const kind = classifyClickHouseError(err);
  return kind === 'bad_data' || (kind === 'unknown' && finalAttempt);
};

async function insertIsolatingBadRows(write: Write, target: SinkTable, rows: Row[], rejected: Rejected[], finalAttempt: boolean): Promise<void> {
  if (rows.length === 0) return;
  try {
    await write(target, rows);
  } catch (err) {
    if (!isolating(err, finalAttempt)) throw err;
    if (rows.length === 1) {
      const label = classifyClickHouseError(err) === 'bad_data' ? 'clickhouse' : 'clickhouse (unknown error, last attempt)';
      rejected.push({ message: rows[0]!.d.message, partition: rows[0]!.d.partition, reason: `${label}: ${describeError(err)}` });
      return;
    }
    const half = Math.ceil(rows.length / 2);
    await insertIsolatingBadRows(write, target, rows.slice(0, half), rejected, finalAttempt);
    await insertIsolatingBadRows(write, target, rows.slice(half), rejected, finalAttempt);
  }
}

export const sink = defineProcessor({
  name: 'sink',
  needsClickHouse: true,
  config: sinkConfig,
  create: (_config, s) => sinkProcessor(s.clickhouse(), s.groupId),
});
