import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from './client.ts';
import { checkSequence, loadMigrations, migrate, statementsOf } from './migrate.ts';

describe('migration files', () => {
  it('have unique, contiguous ids from 1; one statement each, or a rebuild of create, copy, swap, drop', () => {
    const files = readdirSync(new URL('./migrations/', import.meta.url)).filter((f) => f.endsWith('.sql'));
    const migrations = loadMigrations();
    expect(migrations).toHaveLength(files.length);
    expect(() => checkSequence(migrations)).not.toThrow();
    for (const m of migrations) {
      const statements = statementsOf(m.sql).map((s) => s.replace(/--.*$/gm, '').trim());
      expect(statements[0], m.name).toMatch(/IF NOT EXISTS/);
      if (statements.length === 1) continue;
      // A rebuild: the new table, the copy, the swap, and the old table dropped.
      expect(
        statements.map((s) => s.split(/\s+/).slice(0, 2).join(' ')),
        m.name,
      ).toEqual(['CREATE TABLE', 'INSERT INTO', 'EXCHANGE TABLES', 'DROP TABLE']);
    }
  });

  it('a gap or a repeated id is refused', () => {
    const m = (id: number) => ({ id, name: `m${id}`, sql: '', checksum: '' });
    expect(() => checkSequence([m(1), m(3)])).toThrow(/contiguous/);
    expect(() => checkSequence([m(1), m(1)])).toThrow(/contiguous/);
  });
});

describe('migrate on the embedded engine', () => {
  let ch: ClickHouseClient;
  beforeAll(async () => {
    ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-migrate-')) });
  });
  afterAll(async () => ch?.close());

  it('applies every migration once, records checksums, and refuses an edited one', async () => {
    const all = loadMigrations();
    expect((await migrate(ch, all)).applied).toEqual(all.map((m) => m.id));
    expect((await migrate(ch, all)).applied).toEqual([]);

    const tables = await (await ch.query({ query: 'SHOW TABLES', format: 'JSONEachRow' })).json<{ name: string }>();
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['metric_points', 'log_entries', 'deployments', 'autopilot_migrations']));

    const edited = all.map((m, i) => (i === 0 ? { ...m, checksum: 'changed' } : m));
    await expect(migrate(ch, edited)).rejects.toThrow(/changed after it was applied/);
    await expect(migrate(ch, all.slice(0, -1))).rejects.toThrow(/does not know/);
  });
});
