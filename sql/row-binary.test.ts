import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from './client.ts';
import { migrate } from './migrate.ts';
import { chdbBinaryInsert, insertColumnsOf, RowBinaryError, rowBinaryEncoder, rowBinaryWriter, type RowBinaryEncoder } from './row-binary.ts';
import { selectRows } from './rows.ts';

/** A Float64 whose little-endian bytes are all 0A: an empty line inside the payload. */
const newlines = new DataView(new Uint8Array(8).fill(0x0a).buffer).getFloat64(0, true);
const day = Math.floor(Date.now() / 86_400_000) * 86_400_000;

const point = (i: number, over: Record<string, unknown> = {}) => ({
  tenant: 'acme',
  service: 'checkout',
  metric_name: 'http_requests_total',
  labels: { service: 'checkout', instance: `10.0.0.${i}:9100` },
  timestamp: day + 3_600_000 + i,
  value: i + 0.25,
  kafka_partition: i % 3,
  kafka_offset: String(1000 + i),
  ...over,
});

/** The bits of a Float64 as ClickHouse's toString(reinterpretAsUInt64(x)) prints them. */
const bitsOf = (v: number) => {
  const d = new DataView(new ArrayBuffer(8));
  d.setFloat64(0, v, true);
  return d.getBigUint64(0, true).toString();
};

describe('RowBinaryWithNamesAndTypes into metric_points on the embedded engine', () => {
  let ch: ClickHouseClient;
  let encoder: RowBinaryEncoder;
  let insert: ReturnType<typeof chdbBinaryInsert>;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'autopilot-row-binary-test-'));
  beforeAll(async () => {
    ch = await createClickHouse({ dataDir });
    await migrate(ch);
    encoder = rowBinaryEncoder(await insertColumnsOf(ch, 'metric_points'));
    insert = chdbBinaryInsert(ch);
  });
  afterAll(async () => {
    insert?.close();
    await ch?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads the insertable columns and their types from the table (ingested_at and series are the engine’s)', () => {
    expect(encoder.columns).toEqual([
      { name: 'tenant', type: 'LowCardinality(String)' },
      { name: 'service', type: 'LowCardinality(String)' },
      { name: 'metric_name', type: 'LowCardinality(String)' },
      { name: 'labels', type: 'Map(LowCardinality(String), String)' },
      { name: 'timestamp', type: "DateTime64(3, 'UTC')" },
      { name: 'value', type: 'Float64' },
      { name: 'kafka_partition', type: 'UInt16' },
      { name: 'kafka_offset', type: 'UInt64' },
    ]);
  });

  it('round-trips every value exactly, and each row gets the same series as the JSONEachRow path gives it', async () => {
    const rows = [
      point(1, { value: Number.NaN, kafka_offset: '18446744073709551615' }), // above 2^53: written from a BigInt
      point(2, { value: Number.POSITIVE_INFINITY, kafka_offset: 7 }),
      point(3, { value: Number.NEGATIVE_INFINITY, kafka_offset: 2n ** 63n }),
      point(4, { value: -0, kafka_partition: 65_535 }),
      // An empty line in the payload (a value's bytes, and a label's): sent inline to chdb, the engine
      // stops reading there (measured: "Cannot read all data"); through the file it arrives whole.
      point(5, { value: newlines, labels: { note: 'a\n\nb', tab: '\t', quote: `'"\\` } }),
      point(6, { labels: {} }),
      // Multi-byte UTF-8, at and around the one-byte length limit (127 bytes), and a surrogate pair.
      point(7, { tenant: 'é'.repeat(42), service: 'x'.repeat(43), metric_name: '😀'.repeat(21), labels: { ключ: 'значение', long: 'y'.repeat(300) } }),
    ];
    await insert('metric_points', encoder.encode(rows));

    const got = await selectRows<Record<string, unknown>>(
      ch,
      `SELECT tenant, service, metric_name, labels, toString(toUnixTimestamp64Milli(timestamp)) AS ms,
              toString(reinterpretAsUInt64(value)) AS value_bits, kafka_partition, toString(kafka_offset) AS kafka_offset, toString(series) AS series
       FROM metric_points ORDER BY timestamp`,
    );
    expect(got.map(({ series: _, ...r }) => r)).toEqual(
      rows.map((r) => ({
        tenant: r.tenant,
        service: r.service,
        metric_name: r.metric_name,
        labels: r.labels,
        ms: String(r.timestamp),
        value_bits: bitsOf(r.value),
        kafka_partition: r.kafka_partition,
        kafka_offset: String(r.kafka_offset),
      })),
    );

    // The table's key is (series, timestamp): a point written as RowBinary must collapse with the same
    // point written as JSON (a replay through the other path), so the label maps must hash the same.
    await ch.command({ query: 'CREATE TABLE row_binary_json_twin AS metric_points' });
    await ch.insert({ table: 'row_binary_json_twin', values: rows.map((r) => ({ ...r, value: 0, kafka_offset: '0' })), format: 'JSONEachRow' });
    const twin = await selectRows<{ series: string }>(ch, 'SELECT toString(series) AS series FROM row_binary_json_twin ORDER BY timestamp');
    expect(got.map((r) => r.series)).toEqual(twin.map((r) => r.series));
  });

  it('refuses a row it cannot write faithfully, naming the column, and leaves the batch as it was', async () => {
    await ch.command({ query: 'TRUNCATE TABLE metric_points' });
    const batch = encoder.batch();
    batch.add(point(10));
    const refused = [
      point(11, { kafka_offset: '12abc' }),
      point(12, { kafka_partition: 70_000 }),
      point(13, { kafka_offset: -1 }),
      point(14, { service: undefined }),
      point(15, { labels: { ok: 'x', bad: 3 } }),
      point(16, { timestamp: '2026-01-01T00:00:00Z' }),
      point(17, { value: '1.5' }),
    ];
    const columns = refused.map((r) => {
      try {
        batch.add(r);
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(RowBinaryError);
        return (err as RowBinaryError).column;
      }
    });
    expect(columns).toEqual(['kafka_offset', 'kafka_partition', 'kafka_offset', 'service', 'labels', 'timestamp', 'value']);
    batch.add(point(18));
    expect(batch.rows).toBe(2);
    await insert('metric_points', batch.bytes());
    const got = await selectRows<{ offset: string }>(ch, 'SELECT toString(kafka_offset) AS offset FROM metric_points ORDER BY offset');
    expect(got.map((r) => r.offset)).toEqual(['1010', '1018']);
  });

  it('a payload whose header disagrees with the table is refused whole by ClickHouse', async () => {
    const wrong = rowBinaryEncoder(encoder.columns.map((c) => (c.name === 'value' ? { ...c, type: 'Float32' } : c)));
    await expect(insert('metric_points', wrong.encode([point(20)]))).rejects.toMatchObject({ type: 'INCORRECT_DATA' });
  });

  it('a writer sends object-keyed numeric maps (the rollup sketches), and reads a table changed under it again after one failed insert', async () => {
    const writer = rowBinaryWriter(ch);
    try {
      await ch.command({ query: 'CREATE TABLE row_binary_writer (id UInt8, buckets Map(Int32, UInt64)) ENGINE = MergeTree ORDER BY tuple()' });
      await writer.insertRows('row_binary_writer', [{ id: 1, buckets: { 1000123: 5, '-1000007': 2, 0: 1 } }]);
      const [row] = await selectRows<{ keys: number[]; counts: string[] }>(
        ch,
        'SELECT mapKeys(buckets) AS keys, arrayMap(x -> toString(x), mapValues(buckets)) AS counts FROM row_binary_writer',
      );
      expect(Object.fromEntries(row!.keys.map((k, i) => [k, row!.counts[i]]))).toEqual({ '-1000007': '2', 0: '1', 1000123: '5' });

      // The column's type changes under the writer: its cached header is now wrong, ClickHouse refuses
      // the payload whole, and the next insert is encoded for the new type (a writer that never read the
      // table again would fail every insert from then on).
      await ch.command({ query: 'ALTER TABLE row_binary_writer MODIFY COLUMN id UInt32' });
      await expect(writer.insertRows('row_binary_writer', [{ id: 2, buckets: {} }])).rejects.toMatchObject({ type: 'INCORRECT_DATA' });
      await writer.insertRows('row_binary_writer', [{ id: 70_000, buckets: {} }]);
      const ids = await selectRows<{ id: number }>(ch, 'SELECT id FROM row_binary_writer ORDER BY id');
      expect(ids.map((r) => r.id)).toEqual([1, 70_000]);
    } finally {
      writer.close();
    }
  });

  it("rows sharing leading columns encoded once (a series' samples) are byte for byte the rows encoded whole", () => {
    const rows = [point(30), point(31, { value: Number.NaN }), point(32, { kafka_offset: '18446744073709551615' })];
    const whole = encoder.batch();
    const shared = encoder.batch();
    for (const r of rows) {
      whole.add(r);
      shared.addWithPrefix(encoder.prefix(r, 4), r);
    }
    expect(shared.rows).toBe(3);
    expect(Buffer.compare(shared.bytes(), whole.bytes())).toBe(0);
    // A prefix made by another encoder (another header, maybe other columns) is refused, not misread.
    const other = rowBinaryEncoder(encoder.columns);
    expect(() => shared.addWithPrefix(other.prefix(rows[0]!, 4), rows[0]!)).toThrow(/another encoder/);
    expect(shared.rows).toBe(3);
  });

  // Before spans (migration 0031) only DateTime64(3) had an encoder: the encoder for this table was refused at once.
  it('writes DateTime64(9) and (6) from milliseconds with a fraction, to the column unit, arrays of them too', async () => {
    const writer = rowBinaryWriter(ch);
    try {
      await ch.command({
        query: `CREATE TABLE row_binary_fine_times (id UInt8, ns DateTime64(9, 'UTC'), us DateTime64(6), times Array(DateTime64(9, 'UTC')))
                ENGINE = MergeTree ORDER BY id`,
      });
      const ms = 1_767_225_600_123; // 2026-01-01T00:00:00.123Z
      await writer.insertRows('row_binary_fine_times', [
        { id: 1, ns: ms + 0.456789, us: ms + 0.456789, times: [ms, ms + 0.25, new Date(ms)] },
        // A fraction that rounds up to a whole millisecond carries into it; before 1970 is negative.
        { id: 2, ns: ms + 0.9999999999, us: -1.5, times: [] },
      ]);
      const rows = await selectRows<{ ns: string; us: string; times: string[] }>(
        ch,
        `SELECT toString(toUnixTimestamp64Nano(ns)) AS ns, toString(toUnixTimestamp64Micro(us)) AS us,
                arrayMap(t -> toString(toUnixTimestamp64Nano(t)), times) AS times FROM row_binary_fine_times ORDER BY id`,
      );
      // A double of epoch ms holds about a quarter microsecond: the nanoseconds are the nearest it carries.
      const nanos = BigInt(rows[0]!.ns) - BigInt(ms) * 1_000_000n;
      expect(Number(nanos)).toBeGreaterThan(456_789 - 250);
      expect(Number(nanos)).toBeLessThan(456_789 + 250);
      expect(rows).toEqual([
        { ns: rows[0]!.ns, us: `${ms}457`, times: [`${ms}000000`, `${ms}250000`, `${ms}000000`] },
        { ns: `${ms + 1}000000`, us: '-1500', times: [] },
      ]);
      const batch = (await writer.encoder('row_binary_fine_times')).batch();
      expect(() => batch.add({ id: 3, ns: Number.NaN, us: 0, times: [] })).toThrow(RowBinaryError);
      expect(() => batch.add({ id: 3, ns: 0, us: 0, times: ['2026-01-01'] })).toThrow(/times: expected milliseconds/);
      expect(batch.rows).toBe(0);
    } finally {
      writer.close();
    }
  });

  it('a type it has no encoder for is refused when the encoder is made, not mid-batch', () => {
    expect(() => rowBinaryEncoder([{ name: 'id', type: 'UUID' }])).toThrow(/no encoder for ClickHouse type UUID/);
  });
});
