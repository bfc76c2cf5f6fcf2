/**
 * Seeds an embedded ClickHouse folder for a child process of a test (which
 * cannot share the test's own embedded engine): migrations, then the rows
 * given as JSON, table by table. Run as its own process:
 *
 *   node --import tsx test/helpers/seed-embedded.ts <data dir> <rows.json>
 *
 * where rows.json is `{ "<table>": [row, …], … }` (JSONEachRow rows).
 */
import { readFileSync } from 'node:fs';
import { createClickHouse } from '../../sql/client.ts';
import { migrate } from '../../sql/migrate.ts';

const [dataDir, rowsFile] = process.argv.slice(2);
if (!dataDir || !rowsFile) throw new Error('usage: seed-embedded.ts <data dir> <rows.json>');
const ch = await createClickHouse({ dataDir });
await migrate(ch);
const tables = JSON.parse(readFileSync(rowsFile, 'utf8')) as Record<string, Record<string, unknown>[]>;
for (const [table, values] of Object.entries(tables)) await ch.insert({ table, values, format: 'JSONEachRow' });
await ch.close();
process.exit(0);
