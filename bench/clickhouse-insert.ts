/**
 * ClickHouse insert benchmark: metric_points rows, as the sink makes them
 * (processors/sink/rows.ts), inserted in several formats and batch sizes.
 * Rows/s, CPU-seconds per million rows and how many of them went into
 * building the payload in JS, ms per insert (p50 and max), payload bytes per
 * row, and the parts a pass left.
 *
 *   npm run bench:clickhouse-insert [-- --json] [--series 1000] [--timestamps 200]
 *     [--batches 1000,10000,50000,100000] [--repeats 3] [--warmup-rows 50000]
 *     [--methods json-objects,json-text,json-chdb-raw,tsv,tsv-chdb-raw,rowbinary]
 *
 * Methods (each starts from the same row objects; encoding is timed as part
 * of the insert, since the sink pays it):
 * - json-objects: `ch.insert({ values: rows, format: 'JSONEachRow' })`, today's sink.
 * - json-text: the same JSON lines built by us, one string in a byte stream to
 *   `ch.exec` (`ch.insert` refuses a byte stream for JSON formats).
 * - json-chdb-raw (embedded only): that text as a Buffer to chdb's own raw insert
 *   (`Session.insert`, handed to the engine without a JS string copy).
 * - tsv: TabSeparated text through `ch.insert` with a byte stream.
 * - tsv-chdb-raw (embedded only): that text as a Buffer to chdb's raw insert.
 * - rowbinary: RowBinaryWithNamesAndTypes built by sql/row-binary.ts; over HTTP
 *   through `ch.exec`, on chdb through a file and `INSERT … FROM INFILE` (chdb
 *   cannot take binary inline: see chdbBinaryInsert).
 *
 * Rows: `--series` series (~6 labels each, 20 metric names, 50 services) ×
 * `--timestamps` timestamps 1 s apart within one day (one partition), so
 * every row is distinct under the table's (series, timestamp) key.
 *
 * Each (target, method, batch size) runs in a child process of its own with a
 * fresh data folder in os.tmpdir() (chdb binds one folder per process),
 * migrated with sql/migrations, removed after. In it: a warm-up of
 * `--warmup-rows`, then `--repeats` passes over all rows, the table truncated
 * before each. After every pass the table is checked against the rows sent:
 * count() FINAL, sums of timestamps, values, offsets and label counts, and
 * distinct series. A format that drops or garbles rows shows a `check` other
 * than "ok", and its figures mean nothing. Figures are medians over passes.
 *
 * With CLICKHOUSE_URL set, the same runs go to that server too (a database of
 * their own per run, dropped after; json-chdb-raw and tsv-chdb-raw skipped).
 * There, CPU is this process's only (the client's side); on the embedded
 * engine it includes the engine's, which runs in this process.
 *
 * Not measured: background merges after a pass (smaller batches make more
 * parts to merge; `parts` shows how many a pass left).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { createClient } from '@clickhouse/client';
import { createClickHouse, type ClickHouseClient } from '../sql/client.ts';
import { migrate } from '../sql/migrate.ts';
import { chdbBinaryInsert, httpBinaryInsert, insertColumnsOf, rowBinaryEncoder, type BinaryInsert } from '../sql/row-binary.ts';
import { selectRows } from '../sql/rows.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    series: { type: 'string', default: '1000' },
    timestamps: { type: 'string', default: '200' },
    batches: { type: 'string', default: '1000,10000,50000,100000' },
    repeats: { type: 'string', default: '3' },
    'warmup-rows': { type: 'string', default: '50000' },
    methods: { type: 'string', default: 'json-objects,json-text,json-chdb-raw,tsv,tsv-chdb-raw,rowbinary' },
    child: { type: 'string' }, // internal: "<target>:<method>:<batch>", one run, its result as JSON on stdout
  },
});
const say = (msg: string) => !values.json && process.stderr.write(`${msg}\n`);

type Target = 'embedded' | 'server';
type Row = {
  tenant: string;
  service: string;
  metric_name: string;
  labels: Record<string, string>;
  timestamp: number;
  value: number;
  kafka_partition: number;
  kafka_offset: string;
};

interface RunResult {
  target: Target;
  method: string;
  batch: number;
  rows: number;
  rows_per_s: number;
  cpu_s_per_million: number;
  /** Seconds per million rows spent building payloads in JS, part of cpu_s_per_million (null: done inside the client). */
  encode_s_per_million: number | null;
  ms_per_insert_p50: number;
  ms_per_insert_max: number;
  bytes_per_row: number;
  parts: number;
  check: string;
}

/** The rows, as rows.ts makes them: a label object of its own per row, the offset a string. */
function makeRows(series: number, timestamps: number): Row[] {
  const day = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const labelsOf = Array.from({ length: series }, (_, s) => ({
    service: `svc-${s % 50}`,
    environment: s % 7 === 0 ? 'staging' : 'prod',
    instance: `10.0.${s >> 8}.${s & 255}:9100`,
    job: 'node',
    region: ['eu-west-1', 'us-east-1', 'ap-south-1'][s % 3]!,
    pod: `api-${(s * 2654435761) % 99991}-x7k2p`,
  }));
  const rows: Row[] = [];
  let offset = 1_000_000;
  for (let t = 0; t < timestamps; t++) {
    for (let s = 0; s < series; s++) {
      const labels = labelsOf[s]!;
      rows.push({
        tenant: 'bench-tenant',
        service: labels.service,
        metric_name: `node_metric_${s % 20}_total`,
        labels: { ...labels },
        timestamp: day + 3_600_000 + t * 1000,
        value: Math.round(Math.random() * 1e7) / 100,
        kafka_partition: s % 12,
        kafka_offset: String(offset++),
      });
    }
  }
  return rows;
}

/** TabSeparated: strings escaped for TSV; a Map as `{'k':'v'}` with quoted-string escaping (TSV does not escape it again). */
const TSV_SPECIAL = /[\\\t\n\r]/;
const QUOTED_SPECIAL = /[\\'\t\n\r]/;
const tsvString = (s: string) => (TSV_SPECIAL.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!) : s);
const quoted = (s: string) =>
  `'${QUOTED_SPECIAL.test(s) ? s.replace(/[\\'\t\n\r]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!) : s}'`;
function tsvOf(rows: Row[]): string {
  let out = '';
  for (const r of rows) {
    let map = '';
    for (const k in r.labels) map += `${map ? ',' : ''}${quoted(k)}:${quoted(r.labels[k]!)}`;
    out += `${tsvString(r.tenant)}\t${tsvString(r.service)}\t${tsvString(r.metric_name)}\t{${map}}\t${r.timestamp}\t${r.value}\t${r.kafka_partition}\t${r.kafka_offset}\n`;
  }
  return out;
}
const TSV_COLUMNS = ['tenant', 'service', 'metric_name', 'labels', 'timestamp', 'value', 'kafka_partition', 'kafka_offset'];
const jsonOf = (rows: Row[]) => {
  let out = '';
  for (const r of rows) out += `${JSON.stringify(r)}\n`;
  return out;
};
const byteStream = (payload: string | Buffer) => Readable.from([payload], { objectMode: false });
async function execInsert(ch: ClickHouseClient, query: string, payload: string | Buffer): Promise<void> {
  const { stream } = await ch.exec({ query, values: byteStream(payload) });
  stream.resume();
  await finished(stream);
}

/** One method: turn a batch into a payload, then send it. */
interface Method {
  encode(rows: Row[]): string | Buffer | Row[];
  send(payload: string | Buffer | Row[]): Promise<void>;
  close?(): Promise<void>;
}

interface ChdbSession {
  insert(params: { table: string; values: Buffer; format: 'JSONEachRow' | 'TabSeparated'; columns?: readonly string[] }): Promise<unknown>;
  close(): void;
}

async function openMethod(name: string, ch: ClickHouseClient, folder: string | undefined): Promise<Method> {
  const table = 'metric_points';
  switch (name) {
    case 'json-objects':
      return { encode: (rows) => rows, send: async (rows) => void (await ch.insert({ table, values: rows as Row[], format: 'JSONEachRow' })) };
    case 'json-text':
      // Not `ch.insert`: it takes JSON formats as objects only (a byte stream is refused).
      return { encode: jsonOf, send: (text) => execInsert(ch, `INSERT INTO ${table} FORMAT JSONEachRow`, text as string) };
    case 'tsv':
      return {
        encode: tsvOf,
        send: async (text) =>
          void (await ch.insert({ table, columns: TSV_COLUMNS as [string, ...string[]], values: byteStream(text as string), format: 'TabSeparated' })),
      };
    case 'json-chdb-raw':
    case 'tsv-chdb-raw': {
      if (!folder) throw new Error(`${name} runs on the embedded engine only`);
      const { Session } = (await import('chdb')) as unknown as { Session: new (path: string) => ChdbSession };
      const session = new Session(folder);
      const json = name === 'json-chdb-raw';
      return {
        encode: (rows) => Buffer.from(json ? jsonOf(rows) : tsvOf(rows), 'utf8'),
        send: async (buf) =>
          void (await session.insert({
            table,
            values: buf as Buffer,
            format: json ? 'JSONEachRow' : 'TabSeparated',
            ...(json ? {} : { columns: TSV_COLUMNS }),
          })),
        close: async () => session.close(),
      };
    }
    case 'rowbinary': {
      const encoder = rowBinaryEncoder(await insertColumnsOf(ch, table));
      const chdb = folder ? chdbBinaryInsert(ch) : undefined;
      const send: BinaryInsert = chdb ?? httpBinaryInsert(ch);
      return {
        encode: (rows) => encoder.encode(rows),
        send: (buf) => send(table, buf as Buffer),
        close: async () => chdb?.close(),
      };
    }
  }
  throw new Error(`unknown method ${name}`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** What the table must hold after a pass: compared as strings, exact. */
function expected(rows: Row[]) {
  let ts = 0n;
  let offsets = 0n;
  let labels = 0;
  let cents = 0;
  for (const r of rows) {
    ts += BigInt(r.timestamp);
    offsets += BigInt(r.kafka_offset);
    labels += Object.keys(r.labels).length;
    cents += Math.round(r.value * 100);
  }
  const series = new Set(rows.map((r) => `${r.metric_name}${JSON.stringify(r.labels)}`)).size;
  return { n: String(rows.length), ts: String(ts), offsets: String(offsets), labels: String(labels), cents: String(cents), series: String(series) };
}

async function check(ch: ClickHouseClient, want: ReturnType<typeof expected>): Promise<string> {
  const [got] = await selectRows<typeof want>(
    ch,
    `SELECT toString(count()) AS n, toString(sum(toUnixTimestamp64Milli(timestamp))) AS ts, toString(sum(kafka_offset)) AS offsets,
            toString(sum(length(labels))) AS labels, toString(sum(toInt64(round(value * 100)))) AS cents, toString(uniqExact(series)) AS series
     FROM metric_points FINAL`,
  );
  const wrong = Object.keys(want).filter((k) => got![k as keyof typeof want] !== want[k as keyof typeof want]);
  return wrong.length === 0 ? 'ok' : wrong.map((k) => `${k}: ${got![k as keyof typeof want]} != ${want[k as keyof typeof want]}`).join('; ');
}

/** One (target, method, batch size) in this process: warm-up, passes, medians. */
async function runChild(spec: string): Promise<RunResult> {
  const [target, method, batchText] = spec.split(':') as [Target, string, string];
  const batch = Number(batchText);
  const rows = makeRows(Number(values.series), Number(values.timestamps));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-bench-ch-insert-'));
  const database = `bench_ch_insert_${process.pid}`;
  let admin: ClickHouseClient | undefined;
  let ch: ClickHouseClient;
  if (target === 'server') {
    const url = new URL(process.env.CLICKHOUSE_URL!);
    admin = createClient({ url: url.toString() });
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    url.pathname = `/${database}`;
    ch = await createClickHouse({ url: url.toString(), dataDir });
  } else {
    ch = await createClickHouse({ dataDir });
  }
  const folder = target === 'embedded' ? path.join(dataDir, 'clickhouse') : undefined;
  let m: Method | undefined;
  try {
    await migrate(ch);
    m = await openMethod(method, ch, folder);
    const pass = async (slice: Row[]) => {
      const insertMs: number[] = [];
      let encodeSeconds = 0;
      let bytes = 0;
      const cpu0 = cpuNow();
      const t0 = performance.now();
      for (let i = 0; i < slice.length; i += batch) {
        const start = performance.now();
        const payload = m!.encode(slice.slice(i, i + batch));
        encodeSeconds += (performance.now() - start) / 1000; // synchronous JS: its wall time is main-thread CPU
        if (typeof payload === 'string') bytes += Buffer.byteLength(payload);
        else if (Buffer.isBuffer(payload)) bytes += payload.length;
        await m!.send(payload);
        insertMs.push(performance.now() - start);
      }
      return { seconds: (performance.now() - t0) / 1000, cpu: cpuNow() - cpu0, encodeSeconds, insertMs, bytes };
    };
    const truncate = () => ch.command({ query: 'TRUNCATE TABLE metric_points' });
    await pass(rows.slice(0, Math.max(batch, Number(values['warmup-rows']))));
    const want = expected(rows);
    const passes: (Awaited<ReturnType<typeof pass>> & { check: string; parts: number })[] = [];
    for (let r = 0; r < Number(values.repeats); r++) {
      await truncate();
      const p = await pass(rows);
      const [parts] = await selectRows<{ n: number }>(
        ch,
        `SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = 'metric_points' AND active`,
      );
      passes.push({ ...p, check: await check(ch, want), parts: Number(parts!.n) });
    }
    const allInserts = passes.flatMap((p) => p.insertMs);
    return {
      target,
      method,
      batch,
      rows: rows.length,
      rows_per_s: Math.round(median(passes.map((p) => rows.length / p.seconds))),
      cpu_s_per_million: Number(median(passes.map((p) => (p.cpu * 1e6) / rows.length)).toFixed(2)),
      // json-objects encodes inside ch.insert, where it cannot be told apart from sending.
      encode_s_per_million: method === 'json-objects' ? null : Number(median(passes.map((p) => (p.encodeSeconds * 1e6) / rows.length)).toFixed(2)),
      ms_per_insert_p50: Number(median(allInserts).toFixed(1)),
      ms_per_insert_max: Number(Math.max(...allInserts).toFixed(1)),
      bytes_per_row: Math.round(passes[0]!.bytes / rows.length),
      parts: median(passes.map((p) => p.parts)),
      check: passes.find((p) => p.check !== 'ok')?.check ?? 'ok',
    };
  } finally {
    await m?.close?.();
    await ch.close();
    if (admin) {
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await admin.close();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (values.child) {
  const result = await runChild(values.child);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const targets: Target[] = process.env.CLICKHOUSE_URL ? ['embedded', 'server'] : ['embedded'];
  const methods = values.methods.split(',').filter(Boolean);
  const batches = values.batches.split(',').map(Number);
  const self = fileURLToPath(import.meta.url);
  const forward = ['series', 'timestamps', 'repeats', 'warmup-rows'].flatMap((k) => [`--${k}`, values[k as 'series']!]);
  const results: (RunResult | { target: Target; method: string; batch: number; error: string })[] = [];
  for (const target of targets) {
    for (const method of methods) {
      if (target === 'server' && method.endsWith('-chdb-raw')) continue;
      for (const batch of batches) {
        say(`bench: ${target} ${method} batches of ${batch}…`);
        try {
          const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', self, '--child', `${target}:${method}:${batch}`, ...forward], {
            maxBuffer: 1 << 20,
          });
          results.push(JSON.parse(stdout.trim().split('\n').pop()!) as RunResult);
        } catch (err) {
          const e = err as { stderr?: string; message: string };
          results.push({ target, method, batch, error: (e.stderr?.trim().split('\n').slice(-3).join(' ') || e.message).slice(0, 300) });
        }
      }
    }
  }
  const result = {
    bench: 'clickhouse-insert',
    node: process.version,
    series: Number(values.series),
    rows: Number(values.series) * Number(values.timestamps),
    repeats: Number(values.repeats),
    results,
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    const head = ['target', 'method', 'batch', 'rows/s', 'CPU-s/M', 'of it encode', 'ms/insert p50', 'max', 'B/row', 'parts', 'check'];
    const cells = results.map((r) =>
      'error' in r
        ? [r.target, r.method, String(r.batch), `error: ${r.error}`]
        : [
            r.target,
            r.method,
            String(r.batch),
            String(r.rows_per_s),
            r.cpu_s_per_million.toFixed(2),
            r.encode_s_per_million === null ? 'in client' : r.encode_s_per_million.toFixed(2),
            r.ms_per_insert_p50.toFixed(1),
            r.ms_per_insert_max.toFixed(1),
            String(r.bytes_per_row),
            String(r.parts),
            r.check,
          ],
    );
    const widths = head.map((h, i) => Math.max(h.length, ...cells.filter((c) => c.length === head.length).map((c) => c[i]!.length)));
    console.log(`${result.rows} rows (${result.series} series) per pass, medians of ${result.repeats} passes`);
    for (const c of [head, ...cells]) console.log(c.map((v, i) => (i < 2 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  '));
  }
}
