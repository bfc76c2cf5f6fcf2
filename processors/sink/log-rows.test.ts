import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import avro from 'avsc';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../lib/time.ts';
import { streamsOf, toLogBatch } from '../../schemas/log-batch.ts';
import { TOPICS, type LogBatch, type LogEntry } from '../../schemas/topics.ts';
import { createClickHouse, type ClickHouseClient } from '../../sql/client.ts';
import { migrate } from '../../sql/migrate.ts';
import { rowBinaryWriter, type RowBinaryWriter } from '../../sql/row-binary.ts';
import type { Decoded } from '../runtime/processor.ts';
import { RAW_TABLES } from './rows.ts';

/**
 * A log batch record → log_entries rows on the embedded engine, both ways the
 * sink makes them: encoded straight into RowBinary as it gathers (`encode`),
 * and as row objects (`rows`), which it falls back to when an insert must be
 * cut by day or halved to find a bad row. The two must give the same rows.
 */
const type = avro.Type.forSchema(JSON.parse(TOPICS.logBatches.schema));
const now = Date.now();
const line = (over: Partial<LogEntry>): LogEntry => ({
  tenant: 'acme',
  timestamp: now,
  level: 'info',
  message: 'ok',
  service: 'api',
  labels: { pod: 'api-1' },
  ...over,
});
const record = (entries: LogEntry[], offset: number): Decoded => ({
  topic: TOPICS.logBatches.topic,
  partition: 2,
  offset: String(offset),
  value: type.fromBuffer(type.toBuffer(toLogBatch(streamsOf(entries)))) as LogBatch,
  message: {} as KafkaMessage,
});

describe('log batch records in log_entries', () => {
  let ch: ClickHouseClient;
  let writer: RowBinaryWriter;
  beforeAll(async () => {
    ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-log-rows-')) });
    await migrate(ch);
    writer = rowBinaryWriter(ch);
  });
  afterAll(async () => {
    writer?.close();
    await ch?.close();
  });

  const table = RAW_TABLES[TOPICS.logBatches.topic]!;
  const read = async (tenant: string) =>
    (
      await ch.query({
        query: `SELECT service, level, toUnixTimestamp64Milli(timestamp) AS ts, message, labels, kafka_partition, kafka_offset
                FROM log_entries FINAL WHERE tenant = {t:String} ORDER BY ts, message`,
        query_params: { t: tenant },
        format: 'JSONEachRow',
      })
    ).json();

  it('writes a row per line with its stream’s service and labels; a line outside the retention refuses the record, its other lines written', async () => {
    const d = record(
      [
        line({ tenant: 'enc', message: 'GET / 200' }),
        line({ tenant: 'enc', message: 'ERROR boom', level: 'error', timestamp: now + 1, labels: { pod: 'api-2', zone: 'b' } }),
        line({ tenant: 'enc', message: 'checkout ok', service: 'checkout', timestamp: now + 2 }),
        line({ tenant: 'enc', message: 'too old', timestamp: now - 31 * DAY_MS }),
      ],
      41,
    );
    const encoder = await writer.encoder(table.table);
    const batch = encoder.batch();
    const times: number[] = [];
    const refused = table.encode!(d, batch, encoder, now, (t) => times.push(t));
    expect(refused).toMatch(/^event time: timestamp /);
    expect(times).toEqual([now, now + 1, now + 2]); // stream by stream: the old line is its first stream's second
    await writer.insert(table.table, batch.bytes(), batch.rows);

    const rows = (labels: Record<string, string>, service: string, level: string, ts: number, message: string) => ({
      service,
      level,
      ts,
      message,
      labels,
      kafka_partition: 2,
      kafka_offset: 41,
    });
    expect(await read('enc')).toEqual([
      rows({ pod: 'api-1' }, 'api', 'info', now, 'GET / 200'),
      rows({ pod: 'api-2', zone: 'b' }, 'api', 'error', now + 1, 'ERROR boom'),
      rows({ pod: 'api-1' }, 'checkout', 'info', now + 2, 'checkout ok'),
    ]);

    // The same record as row objects (retention aside), inserted for another tenant: the same rows.
    const out: Record<string, unknown>[] = [];
    table.rows(
      record(
        [
          line({ tenant: 'obj', message: 'GET / 200' }),
          line({ tenant: 'obj', message: 'ERROR boom', level: 'error', timestamp: now + 1, labels: { pod: 'api-2', zone: 'b' } }),
          line({ tenant: 'obj', message: 'checkout ok', service: 'checkout', timestamp: now + 2 }),
        ],
        41,
      ),
      out,
    );
    await writer.insertRows(table.table, out);
    expect(await read('obj')).toEqual(await read('enc'));
  });
});
