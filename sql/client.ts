import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';

export type { ClickHouseClient };

/**
 * The one way to reach ClickHouse. With a URL it is a server over HTTP; without
 * one, the same client runs on the embedded engine (chdb) in
 * `<data dir>/clickhouse`. The embedded engine binds one folder per process:
 * a second process reaches it through the holder's admin endpoint.
 */
export async function createClickHouse(opts: { url?: string; dataDir: string }): Promise<ClickHouseClient> {
  if (opts.url) {
    return createClient({ url: opts.url, request_timeout: 30_000, clickhouse_settings: { date_time_input_format: 'best_effort' } });
  }
  const folder = embeddedFolder(opts.dataDir);
  mkdirSync(folder, { recursive: true });
  // chdb is loaded lazily: a server deployment never needs its 500 MB engine in memory.
  const { createChdbConnection } = await import('chdb/connection');
  return createClient({ connection: createChdbConnection({ path: folder }) } as Parameters<typeof createClient>[0]);
}

export const embeddedFolder = (dataDir: string) => path.join(dataDir, 'clickhouse');
