import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { takingTurns } from './chdb-connection.ts';

export type { ClickHouseClient };

/**
 * The one way to reach ClickHouse. With a URL it is a server over HTTP; without
 * one, the same client runs on the embedded engine (chdb) in
 * `<data dir>/clickhouse`. The embedded engine binds one folder per process:
 * a second process reaches it through the holder's admin endpoint.
 */
export async function createClickHouse(opts: { url?: string; dataDir: string }): Promise<ClickHouseClient> {
  const client = opts.url
    ? createClient({ url: opts.url, request_timeout: 30_000, clickhouse_settings: { date_time_input_format: 'best_effort' } })
    : await openEmbedded(opts.dataDir);
  pairWith(readOnlyTwins, client, () => openReadOnly(opts));
  // Over HTTP the server runs requests side by side already: the same client serves as its own express lane.
  pairWith(expressLanes, client, async () => (opts.url ? client : openEmbedded(opts.dataDir)));
  return client;
}

const embeddedFolder = (dataDir: string) => path.join(dataDir, 'clickhouse');

/**
 * The read-only twin of a client made by `createClickHouse`: a separate
 * connection to the same data in which ClickHouse itself refuses writes, DDL,
 * setting changes and table functions that reach outside (`readonly=1`).
 * Opened on first use, closed with the client. It exists because `readonly`
 * must never touch the writers' connection: chdb turns per-query settings into
 * session-wide SETs, so a `readonly=1` there would refuse the sink's inserts.
 */
export function readOnlyClickHouse(ch: ClickHouseClient): Promise<ClickHouseClient> {
  const open = readOnlyTwins.get(ch);
  if (!open) throw new Error('readOnlyClickHouse: this client was not made by createClickHouse');
  return open();
}

/**
 * A second writing connection to the same data, for small writes someone is
 * waiting for (the sink's anomaly and incident rows) that must not queue
 * behind large ones (its 50,000-row sample inserts, the rollups). On the
 * embedded engine statements on one connection take turns, but two
 * connections run side by side (measured with chdb 3.4: `SELECT 1` answered
 * in 68 ms on a second connection while a 1 s query ran on the first, and
 * after 490 ms on the same one). Opened on first use, closed with the client.
 */
export function expressLane(ch: ClickHouseClient): Promise<ClickHouseClient> {
  const open = expressLanes.get(ch);
  if (!open) throw new Error('expressLane: this client was not made by createClickHouse');
  return open();
}

const readOnlyTwins = new WeakMap<ClickHouseClient, () => Promise<ClickHouseClient>>();
const expressLanes = new WeakMap<ClickHouseClient, () => Promise<ClickHouseClient>>();

/** Makes `open` the client's twin in `twins`: opened once on first use, closed before the client (unless it is the client). */
function pairWith(twins: WeakMap<ClickHouseClient, () => Promise<ClickHouseClient>>, client: ClickHouseClient, open: () => Promise<ClickHouseClient>): void {
  let twin: Promise<ClickHouseClient> | undefined;
  twins.set(
    client,
    () =>
      (twin ??= open().catch((err: unknown) => {
        twin = undefined;
        throw err;
      })),
  );
  const closeClient = client.close.bind(client);
  // On chdb the twin holds the same data folder: left open, it would keep the
  // folder bound after the client closed, and the process could not open another.
  client.close = async () => {
    const closing = twin;
    twin = undefined;
    await closing?.then(
      (t) => (t === client ? undefined : t.close()),
      () => undefined,
    );
    await closeClient();
  };
}

async function openReadOnly(opts: { url?: string; dataDir: string }): Promise<ClickHouseClient> {
  // HTTP is stateless: the setting travels with every request and cannot outlive it.
  if (opts.url) return createClient({ url: opts.url, request_timeout: 30_000, clickhouse_settings: { readonly: '1' } });
  // chdb: each connection to a folder keeps its own session settings (measured
  // with chdb 3.4: a SET here is not seen by the writers' connection), and in
  // `readonly=1` the session cannot SET it back.
  const client = await openEmbedded(opts.dataDir);
  try {
    await client.command({ query: 'SET readonly = 1' });
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}

async function openEmbedded(dataDir: string): Promise<ClickHouseClient> {
  const folder = embeddedFolder(dataDir);
  mkdirSync(folder, { recursive: true });
  // chdb is loaded lazily: a server deployment never needs its 500 MB engine in memory.
  const { Session } = await import('chdb');
  const { createChdbConnection } = await import('chdb/connection');
  // The first connection to a folder starts the engine, with its arguments; createChdbConnection
  // passes none, so a session that carries them opens first and closes once the engine has a
  // connection of the client's (a later one, the engine already running, changes nothing).
  const starter = new Session(folder, { connectionArgs: EMBEDDED_ENGINE_ARGS });
  let connection: ReturnType<typeof createChdbConnection>;
  try {
    connection = createChdbConnection({ path: folder });
  } finally {
    starter.close();
  }
  const client = createClient({ connection: takingTurns(connection) } as Parameters<typeof createClient>[0]);
  embedded.add(client);
  return client;
}

/**
 * Server settings of the embedded engine, which shares its process with
 * every processor: ClickHouse sizes its caches for a machine of its own
 * (5 GiB each for marks, primary indexes and skip-index marks, 128 MiB of
 * compiled expressions, 100 MiB of query conditions), and they fill as
 * queries read parts and stay filled. Capped here so the process's memory
 * stays what the pipeline needs (bench:memory) plus at most ~200 MiB of
 * caches. The data itself is read through the OS page cache either way.
 */
const MiB = 2 ** 20;
const EMBEDDED_ENGINE_ARGS: readonly string[] = [
  `--mark_cache_size=${64 * MiB}`,
  `--index_mark_cache_size=${16 * MiB}`,
  `--primary_index_cache_size=${64 * MiB}`,
  `--compiled_expression_cache_size=${16 * MiB}`,
  `--query_condition_cache_size=${16 * MiB}`,
];

const embedded = new WeakSet<ClickHouseClient>();

/** True for a client on the embedded engine (chdb), which takes binary inserts another way (sql/row-binary.ts). */
export const isEmbedded = (ch: ClickHouseClient): boolean => embedded.has(ch);
