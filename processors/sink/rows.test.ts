import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '../../sql/client.ts';
import { migrate } from '../../sql/migrate.ts';
import { RAW_TABLES } from './rows.ts';

/**
 * The sink refuses rows outside a table's retention (rows.ts `time`); that
 * retention must be the one ClickHouse applies, or the sink would store rows
 * the TTL drops at once, or refuse rows the table keeps.
 */
describe('the sink and the migrations agree', () => {
  let ch: ClickHouseClient;
  beforeAll(async () => {
    ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-rows-')) });
    await migrate(ch);
  });
  afterAll(async () => ch?.close());

  it('on every table: its partition key and TTL use the time column, with the retention the sink checks', async () => {
    const tables = await (
      await ch.query({ query: 'SELECT name, partition_key, engine_full FROM system.tables WHERE database = currentDatabase()', format: 'JSONEachRow' })
    ).json<{ name: string; partition_key: string; engine_full: string }>();
    for (const { table, time } of Object.values(RAW_TABLES)) {
      const t = tables.find((x) => x.name === table);
      expect(t, table).toBeDefined();
      expect(time, `${table} has a TTL the sink should know`).toBeDefined();
      expect(t!.partition_key, table).toContain(time!.column);
      expect(t!.engine_full, table).toContain(`TTL toDateTime(${time!.column}) + toIntervalDay(${time!.retentionDays})`);
    }
  });
});
