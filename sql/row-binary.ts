/**
 * Rows → ClickHouse's RowBinaryWithNamesAndTypes, built by hand in a Buffer.
 *
 * Why: on the embedded engine, metric_points in 50k-row batches took about 6
 * CPU-seconds per million rows this way against 11 for JSONEachRow through
 * @clickhouse/client, and went in twice as fast (bench/clickhouse-insert.ts):
 * no JSON.stringify in JS, no JSON parser in the engine. The header carries the
 * column names and the table's own type names (read with `DESCRIBE TABLE`),
 * so ClickHouse checks every column against the table before it reads a row:
 * a schema change fails the insert loudly instead of misreading bytes.
 *
 * RowBinary has no delimiters: one wrong byte shifts every row after it. So
 * the encoder refuses, per row, any value it cannot write faithfully (a
 * missing string, an offset that is not an integer, a number out of range),
 * leaving the batch as it was; the caller decides what a refused row becomes.
 * ClickHouse, unlike with JSON, would not notice.
 *
 * Layout (https://clickhouse.com/docs/interfaces/formats/RowBinary): strings
 * are a LEB128 length then UTF-8 bytes; numbers little-endian; DateTime64(3)
 * an Int64 of milliseconds; Map a LEB128 count then key, value pairs; Array a
 * count then items; Nullable a 0/1 byte then the value; LowCardinality as its
 * inner type; DateTime64(6) and (9) an Int64 of micro- or nanoseconds, from
 * milliseconds with a fraction or a bigint of nanoseconds. NaN and ±Inf are plain Float64 bits (no "NaN" strings as JSON
 * needs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { isEmbedded } from './client.ts';

export const ROW_BINARY_FORMAT = 'RowBinaryWithNamesAndTypes';

/** A value the encoder cannot write as its column's type. */
export class RowBinaryError extends Error {
  constructor(
    message: string,
    readonly column: string,
  ) {
    super(`${column}: ${message}`);
    this.name = 'RowBinaryError';
  }
}

export interface RowBinaryColumn {
  name: string;
  /** The ClickHouse type as `DESCRIBE TABLE` spells it, e.g. `Map(LowCardinality(String), String)`. */
  type: string;
}

/**
 * The columns an insert into `table` writes: every column but DEFAULT,
 * MATERIALIZED, ALIAS and EPHEMERAL ones (the engine fills those), with the
 * table's own types.
 */
export async function insertColumnsOf(ch: ClickHouseClient, table: string): Promise<RowBinaryColumn[]> {
  const rs = await ch.query({ query: `DESCRIBE TABLE ${table}`, format: 'JSONEachRow' });
  const described = await rs.json<{ name: string; type: string; default_type: string }>();
  return described.filter((c) => c.default_type === '').map(({ name, type }) => ({ name, type }));
}

type Write = (w: Writer, value: unknown, column: string) => void;

/** The first chunk of a payload: most payloads (events, a batch's rows) fit it. */
const FIRST_CHUNK_BYTES = 64 * 1024;
/** Every later chunk of a payload. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * A growing payload with the primitive writes, in chunks: a full chunk is
 * kept as it is and the next one started. Doubling one Buffer instead held
 * a sink's 50k-row gathering (~32 MB) in a 64 MB Buffer, after copies of
 * 16 and 32 MB left for the GC (bench:memory).
 *
 * Bytes written since `mark` (the row being written) move whole to the new
 * chunk, so a row never spans two chunks and can be undone (`pos = mark`).
 */
class Writer {
  /** Full chunks, each cut to its bytes. */
  readonly full: Buffer[] = [];
  fullBytes = 0;
  buf = Buffer.allocUnsafe(FIRST_CHUNK_BYTES);
  view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  pos = 0;
  mark = 0;

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const carried = this.pos - this.mark;
    // A value larger than a chunk (or a writer that never marks) still gets room, doubling what it had.
    const next = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, 2 * (carried + bytes)));
    this.buf.copy(next, 0, this.mark, this.pos);
    if (this.mark > 0) {
      this.full.push(this.buf.subarray(0, this.mark));
      this.fullBytes += this.mark;
    }
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
    this.pos = carried;
    this.mark = 0;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.fullBytes + this.pos;
  }

  /** What was written, as views of the chunks (no copy). */
  chunks(): Buffer[] {
    return [...this.full, this.buf.subarray(0, this.pos)];
  }

  varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  string(s: string): void {
    const n = s.length;
    // A UTF-16 unit is at most 3 UTF-8 bytes: under 43 units the length fits the
    // one-byte varint, so write the bytes first and the length in front after.
    // Short ASCII (label names and values, tenants, metric names: nearly every
    // string here) is copied in a JS loop, cheaper than a call into C++ each.
    if (n < 43) {
      this.ensure(1 + 3 * n);
      const b = this.buf;
      const start = this.pos + 1;
      let p = start;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          p = start + b.write(s, start, 'utf8');
          break;
        }
        b[p++] = c;
      }
      b[this.pos] = p - start;
      this.pos = p;
      return;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}

const fail = (column: string, what: string, value: unknown): never => {
  throw new RowBinaryError(`${what}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`, column);
};

const writeString: Write = (w, v, column) => {
  if (typeof v !== 'string') fail(column, 'expected a string', v);
  w.string(v as string);
};

const writeFloat64: Write = (w, v, column) => {
  if (typeof v !== 'number') fail(column, 'expected a number', v);
  w.ensure(8);
  w.view.setFloat64(w.pos, v as number, true);
  w.pos += 8;
};

const writeFloat32: Write = (w, v, column) => {
  if (typeof v !== 'number') fail(column, 'expected a number', v);
  w.ensure(4);
  w.view.setFloat32(w.pos, v as number, true);
  w.pos += 4;
};

const writeBool: Write = (w, v, column) => {
  if (typeof v !== 'boolean') fail(column, 'expected a boolean', v);
  w.ensure(1);
  w.buf[w.pos++] = v ? 1 : 0;
};

/** UInt8/16/32 and Int8/16/32: JS numbers within the type's range. */
function smallInt(bytes: 1 | 2 | 4, signed: boolean): Write {
  const min = signed ? -(2 ** (8 * bytes - 1)) : 0;
  const max = signed ? 2 ** (8 * bytes - 1) - 1 : 2 ** (8 * bytes) - 1;
  return (w, v, column) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(column, `expected an integer in [${min}, ${max}]`, v);
    w.ensure(bytes);
    const n = v as number;
    if (bytes === 1) w.buf[w.pos] = n & 0xff;
    else if (bytes === 2) w.view.setUint16(w.pos, n & 0xffff, true);
    else w.view.setUint32(w.pos, n >>> 0, true);
    w.pos += bytes;
  };
}

/**
 * UInt64/Int64 from a number (a safe integer), a decimal string (Kafka offsets
 * arrive as strings) or a bigint. Safe integers go as two 32-bit halves: no
 * BigInt allocated per row.
 */
function int64(signed: boolean): Write {
  const min = signed ? -(2n ** 63n) : 0n;
  const max = signed ? 2n ** 63n - 1n : 2n ** 64n - 1n;
  return (w, v, column) => {
    let n: number | bigint = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : (v as number | bigint);
    if (typeof n === 'number' && !Number.isSafeInteger(n)) n = typeof v === 'string' ? BigInt(v) : fail(column, 'expected a safe integer', v);
    w.ensure(8);
    if (typeof n === 'number') {
      if (n < 0 && !signed) fail(column, 'expected an unsigned integer', v);
      w.view.setUint32(w.pos, n >>> 0, true);
      w.view.setInt32(w.pos + 4, Math.floor(n / 2 ** 32), true);
    } else if (typeof n === 'bigint') {
      if (n < min || n > max) fail(column, `expected an integer in [${min}, ${max}]`, v);
      w.view.setBigUint64(w.pos, BigInt.asUintN(64, n), true);
    } else {
      fail(column, 'expected an integer, a decimal string or a bigint', v);
    }
    w.pos += 8;
  };
}

/** DateTime64(3): milliseconds since the epoch, as a number or a Date. */
const writeDateTime64ms: Write = (w, v, column) => {
  const ms = v instanceof Date ? v.getTime() : v;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms)) fail(column, 'expected milliseconds since the epoch (an integer) or a Date', v);
  w.ensure(8);
  w.view.setUint32(w.pos, (ms as number) >>> 0, true);
  w.view.setInt32(w.pos + 4, Math.floor((ms as number) / 2 ** 32), true);
  w.pos += 8;
};

/**
 * DateTime64 of a finer precision (6, 9: spans' times): milliseconds since the
 * epoch as for DateTime64(3), a fraction of a millisecond kept to the column's
 * unit (a double of epoch ms holds about a quarter microsecond), or a Date;
 * or, exactly, a bigint of nanoseconds since the epoch (a span's time is a
 * whole millisecond and a nanosecond offset, which a double of epoch ms
 * would round: a time on a millisecond boundary could read as the one
 * before). Milliseconds are the unit every DateTime64 shares, so a row's
 * time column means the same to the sink's retention checks whatever the
 * table's precision.
 */
function dateTime64(precision: number): Write {
  const perMs = 10 ** (precision - 3);
  const perMsBig = BigInt(perMs);
  const nsPerUnit = 10n ** BigInt(9 - precision);
  const limit = 2n ** 63n;
  return (w, v, column) => {
    if (typeof v === 'bigint') {
      w.ensure(8);
      w.view.setBigInt64(w.pos, BigInt.asIntN(64, v / nsPerUnit), true);
      w.pos += 8;
      return;
    }
    const ms = v instanceof Date ? v.getTime() : v;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) fail(column, 'expected milliseconds since the epoch or a Date', v);
    const whole = Math.floor(ms as number);
    // ms - whole is exact (the fraction's bits are ms's own); rounded to the unit it may reach a whole ms, which the sum carries.
    const units = BigInt(whole) * perMsBig + BigInt(Math.round(((ms as number) - whole) * perMs));
    if (units >= limit || units < -limit) fail(column, `expected a time within DateTime64(${precision})'s range`, v);
    w.ensure(8);
    w.view.setBigInt64(w.pos, units, true);
    w.pos += 8;
  };
}

/** DateTime: whole seconds as UInt32, from milliseconds or a Date (as the JSON path takes them). */
const writeDateTime: Write = (w, v, column) => {
  const ms = v instanceof Date ? v.getTime() : v;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms / 1000 >= 2 ** 32) fail(column, 'expected milliseconds since the epoch or a Date', v);
  w.ensure(4);
  w.view.setUint32(w.pos, Math.floor((ms as number) / 1000), true);
  w.pos += 4;
};

function nullable(inner: Write): Write {
  return (w, v, column) => {
    w.ensure(1);
    if (v === null || v === undefined) {
      w.buf[w.pos++] = 1;
      return;
    }
    w.buf[w.pos++] = 0;
    inner(w, v, column);
  };
}

function array(item: Write): Write {
  return (w, v, column) => {
    if (!Array.isArray(v)) fail(column, 'expected an array', v);
    const items = v as unknown[];
    w.varint(items.length);
    for (const x of items) item(w, x, column);
  };
}

/**
 * Map from a plain object (the label maps, the rollup sketches) or a Map. An
 * object's keys are strings: for a numeric key type (`numericKeys`) they are
 * read back as numbers.
 */
function map(key: Write, value: Write, numericKeys: boolean): Write {
  return (w, v, column) => {
    if (v instanceof Map) {
      w.varint(v.size);
      for (const [k, x] of v) {
        key(w, k, column);
        value(w, x, column);
      }
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(column, 'expected an object', v);
    const o = v as Record<string, unknown>;
    let count = 0;
    for (const _ in o) count++;
    w.varint(count);
    for (const k in o) {
      key(w, numericKeys ? Number(k) : k, column);
      value(w, o[k], column);
    }
  };
}

/** Split `A, B(C, D), E` at its top-level commas. */
function typeArgs(inside: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inside.length; i++) {
    const c = inside[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      args.push(inside.slice(start, i).trim());
      start = i + 1;
    }
  }
  args.push(inside.slice(start).trim());
  return args;
}

const SIMPLE: Record<string, Write> = {
  String: writeString,
  Float64: writeFloat64,
  Float32: writeFloat32,
  Bool: writeBool,
  UInt8: smallInt(1, false),
  UInt16: smallInt(2, false),
  UInt32: smallInt(4, false),
  UInt64: int64(false),
  Int8: smallInt(1, true),
  Int16: smallInt(2, true),
  Int32: smallInt(4, true),
  Int64: int64(true),
};

/** The writer for one ClickHouse type; throws on a type this encoder does not know. */
function writerFor(type: string): Write {
  const simple = SIMPLE[type];
  if (simple) return simple;
  const m = /^(\w+)\((.*)\)$/s.exec(type);
  const args = m ? typeArgs(m[2]!) : [];
  switch (m?.[1] ?? type) {
    case 'LowCardinality':
      return writerFor(args[0]!);
    case 'Nullable':
      return nullable(writerFor(args[0]!));
    case 'Array':
      return array(writerFor(args[0]!));
    case 'Map':
      return map(writerFor(args[0]!), writerFor(args[1]!), /^u?int\d+$/i.test(args[0]!));
    case 'DateTime64':
      if (args[0] === '3') return writeDateTime64ms;
      if (args[0] === '6' || args[0] === '9') return dateTime64(Number(args[0]));
      break;
    case 'DateTime':
      return writeDateTime;
  }
  throw new Error(`row-binary: no encoder for ClickHouse type ${type}`);
}

/**
 * One insert's payload: `add` rows, then `bytes()`. Made by
 * `rowBinaryEncoder(columns).batch()`.
 */
export class RowBinaryBatch {
  private readonly w = new Writer();
  private count = 0;

  constructor(
    private readonly columns: readonly RowBinaryColumn[],
    private readonly writes: readonly Write[],
    private readonly header: Buffer,
  ) {
    this.w.ensure(header.length);
    header.copy(this.w.buf, 0);
    this.w.pos = header.length;
  }

  /** Appends a row, or throws a RowBinaryError and leaves the batch as it was. */
  add(row: Record<string, unknown>): void {
    this.w.mark = this.w.pos;
    this.addFrom(0, row);
  }

  /**
   * Appends a row whose leading columns are `shared` (from the encoder's
   * `prefix`: a series' tenant, names and labels, encoded once for all its
   * samples) and whose other columns come from `row`.
   */
  addWithPrefix(shared: SharedColumns, row: Record<string, unknown>): void {
    if (shared.header !== this.header) throw new Error('row-binary: a prefix from another encoder');
    this.w.mark = this.w.pos;
    const n = shared.end - shared.start;
    this.w.ensure(n);
    shared.slab.copy(this.w.buf, this.w.pos, shared.start, shared.end);
    this.w.pos += n;
    this.addFrom(shared.columns, row);
  }

  /** The row's columns from `first` on, after `w.mark` (where the row starts: a failed row is undone back to it). */
  private addFrom(first: number, row: Record<string, unknown>): void {
    try {
      for (let i = first; i < this.writes.length; i++) {
        const name = this.columns[i]!.name;
        this.writes[i]!(this.w, row[name], name);
      }
    } catch (err) {
      this.w.pos = this.w.mark;
      throw err;
    }
    this.count++;
  }

  get rows(): number {
    return this.count;
  }

  /** Bytes of the payload so far, header included. */
  get byteLength(): number {
    return this.w.length;
  }

  /** The payload so far in one Buffer (a view while it fits one chunk, else a copy: prefer `chunks` for a large one). */
  bytes(): Buffer {
    return this.w.full.length === 0 ? this.w.buf.subarray(0, this.w.pos) : Buffer.concat(this.chunks());
  }

  /** The payload so far as views of its chunks, in order (do not add rows while they are being sent). */
  chunks(): Buffer[] {
    return this.w.chunks();
  }
}

/** The leading columns of a row, encoded once for many rows (see RowBinaryBatch.addWithPrefix). */
export interface SharedColumns {
  readonly columns: number;
  /**
   * The encoded columns: bytes [start, end) of `slab`, which many prefixes
   * share. A Buffer object of its own per prefix (one per active series in
   * the sink) cost more than the bytes it held.
   */
  readonly slab: Buffer;
  readonly start: number;
  readonly end: number;
  /** The encoder's header: a prefix is only valid in batches of the encoder that made it. */
  readonly header: Buffer;
}

/** Prefixes are copied into slabs of this size. */
const PREFIX_SLAB_BYTES = 64 * 1024;

export interface RowBinaryEncoder {
  readonly columns: readonly RowBinaryColumn[];
  batch(): RowBinaryBatch;
  /** All rows in one payload; throws on the first row it cannot encode. */
  encode(rows: readonly Record<string, unknown>[]): Buffer;
  /** The first `columns` columns of `row`, encoded; throws a RowBinaryError if one cannot be. */
  prefix(row: Record<string, unknown>, columns: number): SharedColumns;
}

export function rowBinaryEncoder(columns: readonly RowBinaryColumn[]): RowBinaryEncoder {
  const writes = columns.map((c) => writerFor(c.type));
  const head = new Writer();
  head.varint(columns.length);
  for (const c of columns) head.string(c.name);
  for (const c of columns) head.string(c.type);
  const header = Buffer.from(head.buf.subarray(0, head.pos));
  const batch = () => new RowBinaryBatch(columns, writes, header);
  const scratch = new Writer();
  let slab = Buffer.alloc(0);
  let slabUsed = 0;
  return {
    columns,
    batch,
    encode(rows) {
      const b = batch();
      for (const row of rows) b.add(row);
      return b.bytes();
    },
    prefix(row, count) {
      scratch.pos = 0; // one scratch buffer per encoder, copied out: prefixes are made per series, often
      for (let i = 0; i < count; i++) writes[i]!(scratch, row[columns[i]!.name], columns[i]!.name);
      const n = scratch.pos;
      if (slabUsed + n > slab.length) {
        slab = Buffer.allocUnsafeSlow(Math.max(PREFIX_SLAB_BYTES, n));
        slabUsed = 0;
      }
      scratch.buf.copy(slab, slabUsed, 0, n);
      slabUsed += n;
      return { columns: count, slab, start: slabUsed - n, end: slabUsed, header };
    },
  };
}

/** One payload in RowBinaryWithNamesAndTypes: one Buffer, or its chunks in order (RowBinaryBatch.chunks). */
export type RowBinaryPayload = Buffer | readonly Buffer[];

/** Sends one payload as one insert into `table`. */
export type BinaryInsert = (table: string, payload: RowBinaryPayload) => Promise<void>;

const chunksOf = (payload: RowBinaryPayload): readonly Buffer[] => (Buffer.isBuffer(payload) ? [payload] : payload);

/**
 * Over HTTP: `exec` streams the bytes as the request body untouched (`insert`
 * only takes the client's JSON and text formats).
 */
export function httpBinaryInsert(ch: ClickHouseClient): BinaryInsert {
  return async (table, payload) => {
    const { stream } = await ch.exec({
      query: `INSERT INTO ${table} FORMAT ${ROW_BINARY_FORMAT}`,
      values: Readable.from(chunksOf(payload), { objectMode: false }),
    });
    stream.resume(); // the client holds the socket until the (empty) response is read
    await finished(stream);
  };
}

/**
 * On the embedded engine: the payload goes through a file, `INSERT INTO t
 * FROM INFILE '<file>' FORMAT RowBinaryWithNamesAndTypes`, on the same client.
 *
 * chdb has no request body: every way in puts the data inline after the
 * statement, and inline data does not survive binary (chdb 3.4.0, measured):
 * - chdb/connection (what @clickhouse/client runs on) turns `exec`/`insert`
 *   bodies into a JS string with `toString('utf8')`, which replaces bytes that
 *   are not UTF-8: RowBinary fails with "Cannot read all data".
 * - chdb's own raw insert (`Session.insert` with a Buffer) takes text formats
 *   only, and its native entry under it, which passes the bytes whole, still
 *   sends them inline: the engine ends inline data at the first empty line,
 *   so a payload holding the bytes 0A 0A (a float, a timestamp, a length 10
 *   before a string starting "\n"…) loses everything after them. Text formats
 *   never hold an empty line, which is why JSONEachRow works inline.
 * A file is read whole. Writing it is a memory copy into the page cache.
 */
export function chdbBinaryInsert(ch: ClickHouseClient): BinaryInsert & { close(): void } {
  const folder = mkdtempSync(path.join(tmpdir(), 'autopilot-row-binary-'));
  let next = 0;
  const insert = async (table: string, payload: RowBinaryPayload) => {
    const file = path.join(folder, `${next++}.bin`);
    await writeFile(file, chunksOf(payload));
    try {
      await ch.command({ query: `INSERT INTO ${table} FROM INFILE '${file.replace(/[\\']/g, '\\$&')}' FORMAT ${ROW_BINARY_FORMAT}` });
    } finally {
      await rm(file, { force: true });
    }
  };
  return Object.assign(insert, { close: () => rmSync(folder, { recursive: true, force: true }) });
}

/** The binary insert for this client: through a file on the embedded engine, the request body over HTTP. */
export function binaryInsertFor(ch: ClickHouseClient): BinaryInsert & { close(): void } {
  return isEmbedded(ch) ? chdbBinaryInsert(ch) : Object.assign(httpBinaryInsert(ch), { close: () => undefined });
}

/**
 * Inserts in RowBinary into tables whose columns are read once: the encoder
 * for a table comes from DESCRIBE on first use, and again after any failed
 * insert, so a table changed under a running writer fails one insert loudly
 * and is then written in its new shape, never misread.
 */
export interface RowBinaryWriter {
  encoder(table: string): Promise<RowBinaryEncoder>;
  /** Sends a payload built with `encoder(table)`, of `rows` rows. */
  insert(table: string, payload: RowBinaryPayload, rows: number): Promise<void>;
  /** Encodes and sends `rows` as one insert; throws a RowBinaryError, sending nothing, if one cannot be encoded. */
  insertRows(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  close(): void;
}

export function rowBinaryWriter(ch: ClickHouseClient): RowBinaryWriter {
  const send = binaryInsertFor(ch);
  const encoders = new Map<string, Promise<RowBinaryEncoder>>();
  const encoder = (table: string) => {
    let e = encoders.get(table);
    if (!e) {
      e = insertColumnsOf(ch, table).then(rowBinaryEncoder);
      e.catch(() => encoders.delete(table));
      encoders.set(table, e);
    }
    return e;
  };
  const insert = async (table: string, payload: RowBinaryPayload) => {
    try {
      await send(table, payload);
    } catch (err) {
      encoders.delete(table); // the table may have changed: read its columns again
      throw err;
    }
  };
  return {
    encoder,
    insert,
    insertRows: async (table, rows) => {
      const batch = (await encoder(table)).batch();
      for (const row of rows) batch.add(row);
      await insert(table, batch.chunks()); // chunks, not bytes(): no copy of a large payload (the rollup's closed windows)
    },
    close: () => send.close(),
  };
}
