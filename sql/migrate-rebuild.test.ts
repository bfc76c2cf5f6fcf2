import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from './client.ts';
import { loadMigrations, migrate, statementsOf } from './migrate.ts';

/**
 * Table rebuilds (0024–0029): rows written under the old sorting key survive,
 * copies that differ only by Kafka position collapse, and a start that died
 * half-way through a rebuild resumes after its last completed statement.
 * Own file: chdb binds one data folder per process.
 */
describe('rebuilding raw tables by content', () => {
  let ch: ClickHouseClient;
  const all = loadMigrations();
  const before = all.filter((m) => m.id <= 23);
  const rebuild = all.find((m) => m.name === 'metric_points_by_content')!;

  beforeAll(async () => {
    ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-rebuild-')) });
  });
  afterAll(async () => ch?.close());

  const rows = async <T>(query: string) => (await ch.query({ query, format: 'JSONEachRow' })).json<T>();

  it('keeps the rows, collapses retried copies, and resumes after the swap without swapping back', async () => {
    await migrate(ch, before);
    const sample = { tenant: 't', service: 's', metric_name: 'm', labels: { service: 's' }, timestamp: Date.now() - 3_600_000, value: 1 };
    await ch.insert({
      table: 'metric_points',
      format: 'JSONEachRow',
      values: [
        { ...sample, kafka_partition: 0, kafka_offset: 1 },
        { ...sample, kafka_partition: 0, kafka_offset: 7 }, // the same sample, sent again by a retry
        { ...sample, timestamp: sample.timestamp + 1000, kafka_partition: 0, kafka_offset: 8 },
      ],
    });
    expect(await rows('SELECT count() AS n FROM metric_points FINAL')).toEqual([{ n: 3 }]);

    // A start that died right after the swap: create, copy and swap are recorded, the drop is not.
    const statements = statementsOf(rebuild.sql);
    for (const step of [0, 1, 2]) {
      await ch.command({ query: statements[step]! });
      await ch.insert({ table: 'autopilot_migration_steps', values: [{ id: rebuild.id, step }], format: 'JSONEachRow' });
    }
    const { applied } = await migrate(ch, all);
    expect(applied[0]).toBe(rebuild.id);

    // Run again, the copy and swap would have put the old table back.
    const [table] = await rows<{ sorting_key: string }>("SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'metric_points'");
    expect(table!.sorting_key).toBe('tenant, service, metric_name, series, timestamp');
    expect(await rows("SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE '%by_content'")).toEqual([]);
    expect(await rows('SELECT count() AS n FROM metric_points FINAL')).toEqual([{ n: 2 }]);
  });
});
