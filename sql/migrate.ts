import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { ClickHouseClient } from '@clickhouse/client';

/**
 * Forward-only migrations: sql/migrations/NNNN_name.sql, applied in order and
 * recorded with a checksum. An applied migration whose file changed, or an
 * applied id this code does not know, stops the start: the database and the
 * code disagree, and guessing would lose data.
 *
 * Most hold one statement. A table rebuild (create, copy, swap, drop) holds
 * several, each ending in `;` at the end of a line; ClickHouse has no
 * transactional DDL, so each statement is recorded as it completes and a
 * start interrupted half-way resumes after the last completed one, never
 * running a copy or a swap twice.
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The statements of a migration file, in order: split at a `;` that ends a line. */
export function statementsOf(sql: string): string[] {
  return sql
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.replace(/--.*$/gm, '').trim() !== '');
}

export function loadMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = FILE.exec(file);
      if (!m) throw new Error(`migration file ${file} does not match NNNN_name.sql`);
      const sql = readFileSync(new URL(file, dir), 'utf8');
      return { id: Number(m[1]), name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.id - b.id);
}

/** Ids must run 1, 2, 3 … with no gap and no repeat. */
export function checkSequence(migrations: Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.id !== i + 1) throw new Error(`migration ids must be contiguous from 1: expected ${i + 1}, found ${m.id} (${m.name})`);
  });
}

export async function migrate(ch: ClickHouseClient, migrations = loadMigrations()): Promise<{ applied: number[] }> {
  checkSequence(migrations);
  await ch.command({
    query: `CREATE TABLE IF NOT EXISTS autopilot_migrations
      (id UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = MergeTree ORDER BY id`,
  });
  await ch.command({
    query: `CREATE TABLE IF NOT EXISTS autopilot_migration_steps
      (id UInt32, step UInt32, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = MergeTree ORDER BY (id, step)`,
  });
  const result = await ch.query({ query: 'SELECT id, name, checksum FROM autopilot_migrations ORDER BY id', format: 'JSONEachRow' });
  const done = new Map((await result.json<{ id: number; name: string; checksum: string }>()).map((r) => [Number(r.id), r]));
  const known = new Map(migrations.map((m) => [m.id, m]));

  for (const [id, row] of done) {
    const m = known.get(id);
    if (!m) throw new Error(`database has migration ${id} (${row.name}) that this code does not know: is the code older than the database?`);
    if (m.checksum !== row.checksum) {
      throw new Error(`migration ${id} (${m.name}) changed after it was applied; add a new migration instead of editing an applied one`);
    }
  }

  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.id)) continue;
    const steps = await ch.query({
      query: 'SELECT step FROM autopilot_migration_steps WHERE id = {id:UInt32}',
      query_params: { id: m.id },
      format: 'JSONEachRow',
    });
    const stepsDone = new Set((await steps.json<{ step: number }>()).map((r) => Number(r.step)));
    const statements = statementsOf(m.sql);
    for (const [step, query] of statements.entries()) {
      if (stepsDone.has(step)) continue;
      await ch.command({ query });
      if (statements.length > 1) await ch.insert({ table: 'autopilot_migration_steps', values: [{ id: m.id, step }], format: 'JSONEachRow' });
    }
    await ch.insert({ table: 'autopilot_migrations', values: [{ id: m.id, name: m.name, checksum: m.checksum }], format: 'JSONEachRow' });
    applied.push(m.id);
  }
  return { applied };
}
