import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, readOnlyClickHouse, type ClickHouseClient } from './client.ts';

const MiB = 2 ** 20;
const CACHES = ['mark_cache_size', 'index_mark_cache_size', 'primary_index_cache_size', 'compiled_expression_cache_size', 'query_condition_cache_size'];

async function cacheSizes(ch: ClickHouseClient): Promise<Record<string, number>> {
  const rows = await ch
    .query({
      query: 'SELECT name, value FROM system.server_settings WHERE name IN {names:Array(String)}',
      query_params: { names: CACHES },
      format: 'JSONEachRow',
    })
    .then((r) => r.json<{ name: string; value: string }>());
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.value)]));
}

describe('the embedded engine', () => {
  let ch: ClickHouseClient;
  beforeAll(async () => {
    ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-client-')) });
  });
  afterAll(async () => {
    await ch?.close();
  });

  // Without the starter session the engine runs ClickHouse's defaults: 5 GiB for each of the first three
  // and 128 / 100 MiB for the last two (chdb 3.4, read from system.server_settings).
  it('starts with its caches capped, for the connection that started it and for one opened later', async () => {
    const capped = {
      mark_cache_size: 64 * MiB,
      index_mark_cache_size: 16 * MiB,
      primary_index_cache_size: 64 * MiB,
      compiled_expression_cache_size: 16 * MiB,
      query_condition_cache_size: 16 * MiB,
    };
    expect(await cacheSizes(ch)).toEqual(capped);
    expect(await cacheSizes(await readOnlyClickHouse(ch))).toEqual(capped);
  });

  it('keeps working once the session that started it has closed', async () => {
    await ch.command({ query: 'CREATE TABLE t (x UInt32) ENGINE = MergeTree ORDER BY x' });
    await ch.insert({ table: 't', values: [{ x: 1 }, { x: 2 }], format: 'JSONEachRow' });
    const rows = await ch.query({ query: 'SELECT sum(x) AS s FROM t', format: 'JSONEachRow' }).then((r) => r.json<{ s: string | number }>());
    expect(Number(rows[0]!.s)).toBe(3);
  });
});
