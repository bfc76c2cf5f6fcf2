import type { ClickHouseClient } from '@clickhouse/client';
import { describeError } from '../../lib/errors.ts';
import { classifyClickHouseError } from '../../sql/errors.ts';
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
 * What ClickHouse refuses is sorted by what its error means
 * (sql/errors.ts): bad data is isolated by halving the batch until the bad
 * records stand alone, and they are dead-lettered while the rest is written;
 * transient trouble is thrown, and the runtime retries the partition; an
 * unknown error is thrown too, until the runtime's last attempt, when it is
 * isolated like bad data, so one odd record never holds its partition.
 */
export function sinkProcessor(ch: ClickHouseClient, groupId: string): ProcessorSpec {
  const handle: BatchHandler = async (batch, { finalAttempt }) => {
    const target = RAW_TABLES[batch[0]!.topic];
    if (!target) throw new Error(`sink has no table for topic ${batch[0]!.topic}`);
    const rejected: Rejected[] = [];
    const rows: Row[] = [];
    const now = Date.now();
    for (const d of batch) {
      const row = target.row(d);
      const outside = target.time && timeWindowError(row[target.time.column], target.time.retentionDays, now);
      if (outside) rejected.push({ message: d.message, partition: d.partition, reason: `event time: ${target.time!.column} ${outside}` });
      else rows.push({ d, row });
    }
    for (const part of target.time ? splitByDay(rows, (r) => r.row[target.time!.column]) : [rows]) {
      await insertIsolatingBadRows(ch, target, part, rejected, finalAttempt);
    }
    return { rejected };
  };
  return { name: 'sink', groupId, topics: Object.keys(RAW_TABLES), handle };
}

interface Row {
  d: Decoded;
  row: Record<string, unknown>;
}

async function insertIsolatingBadRows(ch: ClickHouseClient, target: SinkTable, rows: Row[], rejected: Rejected[], finalAttempt: boolean): Promise<void> {
  if (rows.length === 0) return;
  try {
    await ch.insert({ table: target.table, values: rows.map((r) => r.row), format: 'JSONEachRow' });
  } catch (err) {
    const kind = classifyClickHouseError(err);
    if (kind === 'transient' || (kind === 'unknown' && !finalAttempt)) throw err;
    if (rows.length === 1) {
      const label = kind === 'bad_data' ? 'clickhouse' : 'clickhouse (unknown error, last attempt)';
      rejected.push({ message: rows[0]!.d.message, partition: rows[0]!.d.partition, reason: `${label}: ${describeError(err)}` });
      return;
    }
    const half = Math.ceil(rows.length / 2);
    await insertIsolatingBadRows(ch, target, rows.slice(0, half), rejected, finalAttempt);
    await insertIsolatingBadRows(ch, target, rows.slice(half), rejected, finalAttempt);
  }
}

export const sink = defineProcessor({
  name: 'sink',
  needsClickHouse: true,
  config: sinkConfig,
  create: (_config, s) => sinkProcessor(s.clickhouse(), s.groupId),
});
