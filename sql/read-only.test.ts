import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutopilotError } from '../lib/errors.ts';
import { createClickHouse, readOnlyClickHouse, type ClickHouseClient } from './client.ts';
import { refusalOf, runReadOnly } from './read-only.ts';

// Before this change only a regex on the statement's first word guarded the
// embedded engine: every `outside` case below ran (a file was written or read,
// the stand-in server saw requests), so these tests failed on that code.

describe('refusalOf (on normalizeQuery shapes)', () => {
  const tableFunctions = new Set(['file', 'url', 'numbers', 'remote']);

  it('lets reading statements through, whatever their literals say', () => {
    for (const shape of [
      'SELECT ? AS s',
      'WITH a AS (SELECT ?) SELECT * FROM a',
      '(SELECT ?) EXCEPT (SELECT ?)',
      'SHOW TABLES',
      'SELECT sum(number) FROM numbers(?)',
    ]) {
      expect(refusalOf(shape, tableFunctions), shape).toBeUndefined();
    }
  });

  it('names what it refuses', () => {
    expect(refusalOf('INSERT INTO t VALUES (?)', tableFunctions)?.refused).toBe('INSERT');
    expect(refusalOf('SELECT ? INTO OUTFILE ? APPEND', tableFunctions)?.refused).toBe('INTO OUTFILE');
    expect(refusalOf('SELECT * FROM URL(?)', tableFunctions)?.refused).toBe('URL()');
    expect(refusalOf('SELECT `remote` (?..)', tableFunctions)?.refused).toBe('remote()');
    expect(refusalOf('SELECT catboostEvaluate(?..)', tableFunctions)?.refused).toBe('catboostEvaluate()');
  });
});

describe('admin SQL on the embedded engine', () => {
  let ch: ClickHouseClient;
  let dir: string;
  let outDir: string;
  let secret: string;
  let kept: string;
  let standIn: Server;
  let standInUrl: string;
  const standInHits: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'autopilot-read-only-'));
    outDir = path.join(dir, 'host');
    mkdirSync(outDir);
    secret = path.join(outDir, 'secret.txt');
    writeFileSync(secret, 'host secret\n');
    kept = path.join(outDir, 'kept.txt');
    writeFileSync(kept, 'before\n');
    // A stand-in for any server the engine could be made to call (url, s3, remote).
    standIn = createServer((req, res) => {
      standInHits.push(`${req.method} ${req.url}`);
      res.end('a,b\n');
    });
    await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
    standInUrl = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;

    ch = await createClickHouse({ dataDir: dir });
    await ch.command({ query: 'CREATE TABLE probe (n UInt32) ENGINE = MergeTree ORDER BY n' });
    await ch.insert({ table: 'probe', values: [{ n: 1 }, { n: 2 }], format: 'JSONEachRow' });
  });
  afterAll(async () => {
    await ch?.close();
    await new Promise((resolve) => standIn?.close(resolve));
  });

  const count = async () => Number((await (await ch.query({ query: 'SELECT count() AS c FROM probe', format: 'JSONEachRow' })).json<{ c: string }>())[0]!.c);

  async function refusal(query: string): Promise<AutopilotError> {
    const err = await runReadOnly(ch, query).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, query).toBeInstanceOf(AutopilotError);
    expect((err as AutopilotError).code, query).toBe('bad_request');
    expect((err as AutopilotError).status, query).toBe(400);
    return err as AutopilotError;
  }

  it('runs reading statements: WITH, subqueries, numbers(), set operations, SHOW, DESCRIBE, EXISTS', async () => {
    const withSub = await runReadOnly(
      ch,
      'WITH s AS (SELECT number AS k FROM numbers(5)) SELECT sum(k) AS total, (SELECT max(n) FROM probe) AS top FROM s WHERE k IN (SELECT n FROM probe)',
    );
    // k in {1, 2}: the subquery and the IN both read the table.
    expect(withSub.data.map((r) => [Number(r.total), r.top])).toEqual([[3, 2]]);
    expect((await runReadOnly(ch, '(SELECT 1 AS x) EXCEPT (SELECT 2 AS x)')).data).toEqual([{ x: 1 }]);
    expect(Number((await runReadOnly(ch, 'SELECT count() AS c FROM generate_series(1, 4)')).data[0]!.c)).toBe(4);
    expect((await runReadOnly(ch, 'SHOW TABLES')).data).toEqual([{ name: 'probe' }]);
    expect((await runReadOnly(ch, 'DESCRIBE TABLE probe')).data[0]).toMatchObject({ name: 'n', type: 'UInt32' });
    expect((await runReadOnly(ch, 'EXISTS TABLE probe')).data).toEqual([{ result: 1 }]);
    // Literals and quoted names are data, not clauses.
    expect((await runReadOnly(ch, "SELECT 'x INTO OUTFILE y' AS s, 'file(1)' AS `INTO OUTFILE`")).data).toEqual([
      { s: 'x INTO OUTFILE y', 'INTO OUTFILE': 'file(1)' },
    ]);
  });

  it('refuses whatever reaches the host or the network, naming it, and nothing happens', async () => {
    const out = (name: string) => path.join(outDir, name);
    const outside: Array<[query: string, named: string]> = [
      [`SELECT 1 INTO OUTFILE '${out('plain.txt')}'`, 'INTO OUTFILE'],
      [`SELECT 1 INTO OUTFILE '${kept}' APPEND`, 'INTO OUTFILE'],
      [`SELECT 1 INTO OUTFILE '${kept}' TRUNCATE`, 'INTO OUTFILE'],
      [`select 1 into /* hidden? */ outfile '${out('lower.txt.gz')}' COMPRESSION 'gzip'`, 'INTO OUTFILE'],
      [`SELECT * FROM file('${secret}', 'LineAsString')`, 'file()'],
      [`SELECT file('${secret}') AS f`, 'file()'],
      [`SELECT * FROM FILE('${secret}', 'LineAsString')`, 'FILE()'],
      [`SELECT * FROM view(SELECT * FROM file('${secret}', 'LineAsString'))`, 'file()'],
      [`DESCRIBE TABLE file('${secret}', 'LineAsString')`, 'file()'],
      [`SELECT * FROM url('${standInUrl}/url', 'CSV')`, 'url()'],
      [`SELECT * FROM s3('${standInUrl}/bucket/key.csv', 'CSV')`, 's3()'],
      [`SELECT * FROM probe AS p JOIN remote('127.0.0.1:${new URL(standInUrl).port}', system.one) AS r ON 1`, 'remote()'],
      ["SELECT * FROM executable('hello.sh', 'TSV', 'x String')", 'executable()'],
      ["SELECT * FROM input('x UInt8')", 'input()'],
    ];
    for (const [query, named] of outside) {
      const err = await refusal(query);
      expect(err.message, query).toContain(named);
      expect(err.details, query).toEqual({ refused: named });
    }
    expect(readdirSync(outDir).sort()).toEqual(['kept.txt', 'secret.txt']);
    expect(readFileSync(kept, 'utf8')).toBe('before\n');
    expect(standInHits).toEqual([]);
  });

  it('refuses writes, DDL, SET, SYSTEM, several statements and setting overrides; the data is untouched', async () => {
    const writes = [
      'INSERT INTO probe VALUES (3)',
      'CREATE TABLE other (n UInt8) ENGINE = Memory',
      'DROP TABLE probe',
      'ALTER TABLE probe DELETE WHERE 1',
      'TRUNCATE TABLE probe',
      'SET readonly = 0',
      'SYSTEM DROP MARK CACHE',
      'OPTIMIZE TABLE probe FINAL',
    ];
    for (const query of writes) expect((await refusal(query)).message, query).toContain('readonly');
    expect((await refusal('SELECT 1; DROP TABLE probe')).message).toContain('single statement');
    // Past the parser's checks, the engine itself holds: `readonly=1` cannot be overridden from inside the statement.
    expect((await refusal("SELECT getSetting('readonly') AS r SETTINGS readonly = 0")).message).toMatch(/readonly/);
    expect((await refusal('SELECT 1 SETTINGS max_threads = 1')).message).toMatch(/readonly mode/);
    expect(await count()).toBe(2);
    expect((await runReadOnly(ch, 'EXISTS TABLE other')).data).toEqual([{ result: 0 }]);
  });

  it('the read-only twin refuses on its own what the parser checks would let past, and keeps readonly to itself', async () => {
    const twin = await readOnlyClickHouse(ch);
    await expect(twin.command({ query: 'INSERT INTO probe VALUES (9)' })).rejects.toThrow(/readonly/);
    await expect(twin.query({ query: `SELECT * FROM url('${standInUrl}/twin', 'CSV')` })).rejects.toThrow(/readonly/);
    await expect(twin.command({ query: 'SET readonly = 0' })).rejects.toThrow(/readonly/);
    expect(standInHits).toEqual([]);
    const setting = async (c: ClickHouseClient) =>
      (await (await c.query({ query: "SELECT getSetting('readonly') AS r", format: 'JSONEachRow' })).json<{ r: number }>())[0]!.r;
    expect(await setting(twin)).toBe(1);
    // The writers' connection in the same process is not read-only: the sink's inserts still land.
    expect(await setting(ch)).toBe(0);
    await ch.insert({ table: 'probe', values: [{ n: 3 }], format: 'JSONEachRow' });
    await ch.command({ query: 'INSERT INTO probe VALUES (4)' });
    expect(await count()).toBe(4);
    expect((await runReadOnly(ch, 'SELECT max(n) AS m FROM probe')).data).toEqual([{ m: 4 }]);
  });

  it('readonly=1 alone would not have been enough: the scalar file() and INTO OUTFILE still work on the twin', async () => {
    // Why the parser checks exist. Run on the twin directly, past runReadOnly, in this test's own folder.
    const twin = await readOnlyClickHouse(ch);
    const read = await (await twin.query({ query: `SELECT file('${secret}') AS f`, format: 'JSONEachRow' })).json<{ f: string }>();
    expect(read).toEqual([{ f: 'host secret\n' }]);
    const written = path.join(dir, 'proof.txt');
    await twin.command({ query: `SELECT 1 INTO OUTFILE '${written}'` });
    expect(existsSync(written)).toBe(true);
  });
});

describe('closing the client', () => {
  it('closes its read-only twin too, so the process can open another data folder', async () => {
    const first = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-read-only-a-')) });
    expect((await runReadOnly(first, 'SELECT 1 AS one')).data).toEqual([{ one: 1 }]);
    await first.close();
    const second = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-read-only-b-')) });
    try {
      expect((await runReadOnly(second, 'SELECT 2 AS two')).data).toEqual([{ two: 2 }]);
    } finally {
      await second.close();
    }
  });
});
