import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from './client.ts';
import { migrate } from './migrate.ts';
import { chdbBinaryInsert, insertColumnsOf, RowBinaryError, rowBinaryEncoder, type RowBinaryEncoder } from './row-binary.ts';
import { selectRows } from './rows.ts';

const day = Math.floor(Date.now() / 86_400_000) * 86_400_000;
const point = (i: number, over: Record<string, unknown> = {}) => ({
  tenant: 'acme',
  service: 'checkout',
  metric_name: 'http_requests_total',
  // Labels of varying length: rows of many sizes, so chunk ends fall anywhere inside a row.
  labels: { service: 'checkout', instance: `10.0.0.${i}:9100`, pad: 'x'.repeat(i % 97) },
  timestamp: day + 3_600_000 + i,
  value: i + 0.25,
  kafka_partition: i % 3,
  kafka_offset: String(1000 + i),
  ...over,
});

/**
 * A large payload is kept in chunks (no chunk over 1 MiB), not one Buffer
 * doubled: a sink's 50k-row gathering sat in a 64 MB Buffer. Before chunks,
 * `chunks()` did not exist and the payload was one Buffer of 2^k × 64 KiB.
 */
describe('RowBinaryBatch in chunks', () => {
  let ch: ClickHouseClient;
  let encoder: RowBinaryEncoder;
  let insert: ReturnType<typeof chdbBinaryInsert>;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'autopilot-row-binary-chunks-test-'));
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

  it('is the rows encoded one by one, byte for byte, across chunk ends, a refused row at any point leaving nothing', () => {
    const header = encoder.encode([]);
    const one = (row: Record<string, unknown>) => encoder.encode([row]).subarray(header.length);
    const batch = encoder.batch();
    const expected: Buffer[] = [header];
    const N = 30_000;
    for (let i = 0; i < N; i++) {
      const row = point(i);
      // Every 7th row with a shared prefix (the sink's way), every 11th refused after its first columns are written.
      if (i % 7 === 0) batch.addWithPrefix(encoder.prefix(row, 4), row);
      else batch.add(row);
      expected.push(one(row));
      if (i % 11 === 0) {
        const bad = point(i, { kafka_offset: 'not a number' });
        expect(() => (i % 2 ? batch.add(bad) : batch.addWithPrefix(encoder.prefix(bad, 4), bad))).toThrow(RowBinaryError);
      }
    }
    const chunks = batch.chunks();
    const whole = Buffer.concat(expected);
    expect(batch.rows).toBe(N);
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expect(c.buffer.byteLength).toBeLessThanOrEqual(1024 * 1024);
    expect(batch.byteLength).toBe(whole.length);
    expect(Buffer.compare(Buffer.concat(chunks), whole)).toBe(0);
    expect(Buffer.compare(batch.bytes(), whole)).toBe(0);
  });

  it('goes into ClickHouse as its chunks', async () => {
    const batch = encoder.batch();
    const N = 20_000;
    for (let i = 0; i < N; i++) batch.add(point(i));
    expect(batch.chunks().length).toBeGreaterThan(1);
    await insert('metric_points', batch.chunks());
    const [got] = await selectRows<{ n: string; offsets: string }>(ch, 'SELECT count() AS n, toString(sum(kafka_offset)) AS offsets FROM metric_points');
    expect(Number(got!.n)).toBe(N);
    expect(got!.offsets).toBe(String(N * 1000 + (N * (N - 1)) / 2));
  });
});
