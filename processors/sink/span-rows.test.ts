import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import avro from 'avsc';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../lib/time.ts';
import { toSpanBatch } from '../../schemas/span-batch.ts';
import { TOPICS, type Span, type SpanBatch } from '../../schemas/topics.ts';
import { createClickHouse, type ClickHouseClient } from '../../sql/client.ts';
import { migrate } from '../../sql/migrate.ts';
import { rowBinaryWriter, type RowBinaryWriter } from '../../sql/row-binary.ts';
import type { Decoded } from '../runtime/processor.ts';
import { RAW_TABLES } from './rows.ts';

/**
 * A span batch record → `spans` rows on the embedded engine, both ways the
 * sink makes them: encoded straight into RowBinary as it gathers (`encode`),
 * and as row objects (`rows`), which it falls back to when an insert must be
 * cut by day or halved to find a bad row. The two must give the same rows.
 * There was no span table or mapping before: this fails on the code before.
 */
const type = avro.Type.forSchema(JSON.parse(TOPICS.spans.schema));
// OTLP times reach the gateway as doubles of epoch ns, exact only at multiples of 256 ns today:
// a multiple of 4 ms is one (4e6 = 2^8 · 15625), so the times below are stored exactly.
const now = Date.now() - (Date.now() % 4);
const span = (tenant: string, i: number, startMs: number): Span => ({
  tenant,
  trace_id: 'ab'.repeat(16),
  span_id: (i + 1).toString(16).padStart(16, '0'),
  parent_span_id: i ? '0000000000000001' : '',
  trace_state: '',
  name: `op ${i}`,
  kind: 'Internal',
  service: i === 2 ? 'worker' : 'api',
  resource_attributes: { 'service.name': i === 2 ? 'worker' : 'api' },
  scope_name: 's',
  scope_version: '',
  span_attributes: { i: String(i) },
  start_time_unix_nano: startMs * 1_000_000,
  duration_ns: 5_000 + i,
  status_code: 'Ok',
  status_message: '',
  events: [{ time_unix_nano: (startMs + 4) * 1_000_000, name: 'tick', attributes: { n: '1' } }],
  links: [{ trace_id: 'cd'.repeat(16), span_id: 'ef'.repeat(8), trace_state: '', attributes: {} }],
});
const record = (spans: Span[], offset: number): Decoded => ({
  topic: TOPICS.spans.topic,
  partition: 1,
  offset: String(offset),
  value: type.fromBuffer(type.toBuffer(toSpanBatch(spans))) as SpanBatch,
  message: {} as KafkaMessage,
});

describe('span batch records in spans', () => {
  let ch: ClickHouseClient;
  let writer: RowBinaryWriter;
  beforeAll(async () => {
    ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-span-rows-')) });
    await migrate(ch);
    writer = rowBinaryWriter(ch);
  });
  afterAll(async () => {
    writer?.close();
    await ch?.close();
  });

  const table = RAW_TABLES[TOPICS.spans.topic]!;
  const read = async (tenant: string) =>
    (
      await ch.query({
        query: `SELECT service, name, toUnixTimestamp64Milli(timestamp) AS ms, span_attributes, toUnixTimestamp64Milli(events.timestamp[1]) AS event_ms,
                       events.attributes, links.span_id, duration_ns, kafka_partition, kafka_offset
                FROM spans FINAL WHERE tenant = {t:String} ORDER BY ms, name`,
        query_params: { t: tenant },
        format: 'JSONEachRow',
      })
    ).json();

  it('writes a row per span with its resource’s service; a span outside the retention refuses the record, its other spans written', async () => {
    const d = record([span('enc', 0, now), span('enc', 1, now + 4), span('enc', 2, now + 8), span('enc', 3, now - 31 * DAY_MS)], 41);
    const encoder = await writer.encoder(table.table);
    const batch = encoder.batch();
    const times: number[] = [];
    const refused = table.encode!(d, batch, encoder, now, (t) => times.push(t));
    expect(refused).toMatch(/^event time: timestamp /);
    // api's spans, then worker's (the old span is api's third); epoch ms with a fraction, to a quarter microsecond.
    expect(times.map(Math.round)).toEqual([now, now + 4, now + 8]);
    await writer.insert(table.table, batch.bytes(), batch.rows);

    const row = (service: string, i: number, ms: number) => ({
      service,
      name: `op ${i}`,
      ms,
      span_attributes: { i: String(i) },
      event_ms: ms + 4,
      'events.attributes': [{ n: '1' }],
      'links.span_id': ['ef'.repeat(8)],
      duration_ns: 5_000 + i,
      kafka_partition: 1,
      kafka_offset: 41,
    });
    expect(await read('enc')).toEqual([row('api', 0, now), row('api', 1, now + 4), row('worker', 2, now + 8)]);

    // The same record as row objects (retention aside), inserted for another tenant: the same rows.
    const out: Record<string, unknown>[] = [];
    table.rows(record([span('obj', 0, now), span('obj', 1, now + 4), span('obj', 2, now + 8)], 41), out);
    await writer.insertRows(table.table, out);
    expect(await read('obj')).toEqual(await read('enc'));
  });
});
