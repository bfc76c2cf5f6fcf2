import type { Config } from '../lib/config.ts';
import { runReadOnly, type QueryResult } from '../sql/read-only.ts';
import { createClickHouse } from '../sql/client.ts';
import { readDevKey } from './dev-keys.ts';
import { readRunFile } from './run-file.ts';

type Result = QueryResult;

/**
 * A read-only query (see sql/read-only.ts: parsed and checked by ClickHouse,
 * then run on a `readonly=1` connection). When a running Autopilot holds the
 * embedded engine, the query goes through its admin endpoint; otherwise this
 * process opens ClickHouse itself (embedded folder or CLICKHOUSE_URL).
 */
export async function sqlCommand(query: string, config: Config, format: 'table' | 'json'): Promise<void> {
  const result = await runQuery(query, config);
  if (format === 'json') {
    for (const row of result.data) process.stdout.write(`${JSON.stringify(row)}\n`);
  } else {
    process.stdout.write(formatTable(result));
  }
}

async function runQuery(query: string, config: Config): Promise<Result> {
  const holder = config.clickhouseUrl ? undefined : readRunFile(config.dataDir);
  if (holder) {
    const key = config.adminKey ?? readDevKey(config.dataDir, 'admin-key');
    if (!key) throw new Error(`Autopilot (pid ${holder.pid}) holds the embedded ClickHouse; set AUTOPILOT_ADMIN_KEY to query through it`);
    const res = await fetch(`${holder.url}/admin/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const body = (await res.json()) as Result & { error?: { message: string } };
    if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
    return body;
  }
  const ch = await createClickHouse({ url: config.clickhouseUrl, dataDir: config.dataDir });
  try {
    return await runReadOnly(ch, query);
  } finally {
    await ch.close();
  }
}

function formatTable({ meta, data }: Result): string {
  const names = meta.length ? meta.map((m) => m.name) : Object.keys(data[0] ?? {});
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const rows = data.map((r) => names.map((n) => cell(r[n])));
  const widths = names.map((n, i) => Math.max(n.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(names), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
  return `${out.join('\n')}\n(${data.length} row${data.length === 1 ? '' : 's'})\n`;
}
