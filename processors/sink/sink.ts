import type { ClickHouseClient } from '@clickhouse/client';
import { describeError } from '../../lib/errors.ts';
import { isBadDataError } from '../../sql/errors.ts';
import type { Rejected } from '../runtime/dead-letter.ts';
import type { BatchHandler, Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { RAW_TABLES } from './rows.ts';

/**
 * The sink: raw records into ClickHouse, one insert per partition batch. When
 * ClickHouse refuses a batch as bad data, the batch is halved until the bad
 * records are isolated; they go to the dead-letter topic and the rest is
 * written. Any other failure is thrown, and the runtime retries.
 */
export function sinkProcessor(ch: ClickHouseClient, groupId: string): ProcessorSpec {
  const handle: BatchHandler = async (batch) => {
    const target = RAW_TABLES[batch[0]!.topic];
    if (!target) throw new Error(`sink has no table for topic ${batch[0]!.topic}`);
    const rejected: Rejected[] = [];
    await insertIsolatingBadRows(ch, target.table, batch, target.row, rejected);
    return { rejected };
  };
  return { name: 'sink', groupId, topics: Object.keys(RAW_TABLES), handle };
}

async function insertIsolatingBadRows(
  ch: ClickHouseClient,
  table: string,
  batch: Decoded[],
  toRow: (d: Decoded) => Record<string, unknown>,
  rejected: Rejected[],
): Promise<void> {
  try {
    await ch.insert({ table, values: batch.map(toRow), format: 'JSONEachRow' });
  } catch (err) {
    if (!isBadDataError(err)) throw err;
    if (batch.length === 1) {
      rejected.push({ message: batch[0]!.message, partition: batch[0]!.partition, reason: `clickhouse: ${describeError(err)}` });
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await insertIsolatingBadRows(ch, table, batch.slice(0, half), toRow, rejected);
    await insertIsolatingBadRows(ch, table, batch.slice(half), toRow, rejected);
  }
}
