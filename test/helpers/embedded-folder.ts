import { runReadOnly, type QueryResult } from '../../sql/read-only.ts';
import { createClickHouse } from '../../sql/client.ts';

/**
 * A read-only query on the embedded ClickHouse of a data folder no process
 * holds any more (its process stopped, or was SIGKILLed: what it had inserted
 * is on disk), the way `/admin/sql` runs it for a live one. The engine binds
 * one folder per process, so this one is closed, and the engine drained,
 * before the next can open.
 */
export async function queryEmbeddedFolder(dataDir: string, query: string): Promise<QueryResult['data']> {
  const ch = await createClickHouse({ dataDir });
  try {
    return (await runReadOnly(ch, query)).data;
  } finally {
    await ch.close();
    const { drainPending } = await import('chdb');
    await drainPending();
  }
}
