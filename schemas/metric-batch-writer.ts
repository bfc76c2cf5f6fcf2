import type { SeriesEntry } from './metric-batch.ts';
import { symbolInterner } from './symbols.ts';

/**
 * A batch record written straight from series entries into Avro binary, laid
 * out as metric_batch.avsc says (and as avsc writes it: each array one block,
 * then a zero), after a 5-byte Confluent header. It gives the same bytes as
 * toMetricBatch then the schema's avsc Type (metric-batch-writer.test.ts
 * compares them), without the MetricBatch object in between: its refs,
 * columns and series objects were a third of the gateway's remote-write
 * encoding time, and avsc's generic writer another third.
 */
export function writeMetricBatch(series: readonly SeriesEntry[], header: Uint8Array): Buffer {
  // First the record's symbols (in order of first use), each series' refs and a bound on the record's bytes
  // (strings at most 3 bytes per UTF-16 unit); then the record.
  const table = symbolTable;
  const refs = series.every((s) => s.symbolIds !== undefined) ? table.refsOfKept(series) : refsOfStrings(series);
  const symbols = refs.symbols;
  const tenant = series[0]?.tenant ?? '';
  let samples = 0;
  for (const s of series) samples += s.timestamps.length;
  let bound = header.length + 64 + 5 + 3 * tenant.length + 10 * series.length + 5 * refs.length + 18 * samples;
  for (const sym of symbols) bound += 5 + 3 * sym.length;

  const w = new Writer(bound);
  w.bytes(header);
  w.string(tenant);
  const base = series[0]?.timestamps[0] ?? 0;
  w.long(base);
  w.blockStart(symbols.length);
  for (const sym of symbols) w.string(sym);
  w.long(0);
  w.blockStart(series.length);
  const flat = refs.refs;
  let at = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    const count = 2 + 2 * refs.labels[i]!;
    w.long(count);
    for (const end = at + count; at < end; at++) w.count(flat[at]!);
    w.long(0);
    w.long(s.timestamps.length);
  }
  w.long(0);
  w.blockStart(samples);
  for (const s of series) for (const t of s.timestamps) w.long(t - base);
  w.long(0);
  w.blockStart(samples);
  for (const s of series) for (const v of s.values) w.double(v);
  w.long(0);
  return w.done();
}

/** A record's symbols, and every series' refs into them one after the other: `__name__`, the name, then each label's name and value. */
interface Refs {
  symbols: string[];
  refs: Int32Array;
  length: number;
  /** Labels per series. */
  labels: Int32Array;
}

/** The refs of series without kept ids (JSON points: new labels objects every request), by a Map of this record's strings. */
function refsOfStrings(series: readonly SeriesEntry[]): Refs {
  const { symbols, ref } = symbolInterner();
  const out = scratchRefs(series);
  let at = 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i]!;
    out.refs[at++] = ref('__name__');
    out.refs[at++] = ref(s.metric_name);
    let labels = 0;
    for (const name in s.labels) {
      at = out.ensure(at, 2);
      out.refs[at++] = ref(name);
      out.refs[at++] = ref(s.labels[name]!);
      labels++;
    }
    out.labels[i] = labels;
    at = out.ensure(at, 2);
  }
  out.length = at;
  out.symbols = symbols;
  return out;
}

/** Refs arrays reused from record to record (a record is written before the next one starts). */
class ScratchRefs implements Refs {
  symbols: string[] = [];
  refs = new Int32Array(4096);
  length = 0;
  labels = new Int32Array(1024);

  /** Room for `n` more refs after `at` (and the next series' first two). */
  ensure(at: number, n: number): number {
    if (at + n + 2 > this.refs.length) {
      const grown = new Int32Array(Math.max(this.refs.length * 2, at + n + 2));
      grown.set(this.refs.subarray(0, at));
      this.refs = grown;
    }
    return at;
  }
}
const scratch = new ScratchRefs();

function scratchRefs(series: readonly SeriesEntry[]): ScratchRefs {
  if (scratch.labels.length < series.length) scratch.labels = new Int32Array(Math.max(series.length, scratch.labels.length * 2));
  scratch.ensure(0, 0);
  scratch.length = 0;
  return scratch;
}

/** Every string the writer met, as a small integer, for up to this many strings; then it starts over. */
const MAX_SYMBOLS = 200_000;
const NAME_LABEL = 0; // '__name__', the first id of every epoch

/**
 * The strings of records as integers, so that building a record's symbol
 * table costs an array access per string instead of a Map lookup (with a
 * series' ids kept on its SymbolIds, a series seen before costs none).
 */
class SymbolTable {
  epoch = 0;
  private ids = new Map<string, number>();
  private strings: string[] = [];
  // For the record being written: which ids it uses (mark === record) and their place in its symbols.
  private mark = new Int32Array(1024);
  private local = new Int32Array(1024);
  private record = 0;

  constructor() {
    this.id('__name__');
  }

  /** The refs of series whose symbol ids are kept (remote-write's cached series): an array access per string. */
  refsOfKept(series: readonly SeriesEntry[]): Refs {
    this.startRecord();
    const symbols: string[] = [];
    const out = scratchRefs(series);
    let at = 0;
    for (let i = 0; i < series.length; i++) {
      const s = series[i]!;
      const ids = this.labelIds(s);
      at = out.ensure(at, ids.length);
      out.refs[at++] = this.ref(NAME_LABEL, symbols);
      out.refs[at++] = this.ref(this.id(s.metric_name), symbols);
      for (let j = 0; j < ids.length; j++) out.refs[at++] = this.ref(ids[j]!, symbols);
      out.labels[i] = ids.length / 2;
    }
    out.length = at;
    out.symbols = symbols;
    return out;
  }

  /** Between records only: the table starts over once it holds MAX_SYMBOLS strings. */
  private startRecord(): void {
    if (this.strings.length >= MAX_SYMBOLS || this.record >= 0x7fffffff) {
      this.epoch++;
      this.ids = new Map();
      this.strings = [];
      this.mark.fill(0);
      this.record = 0;
      this.id('__name__');
    }
    this.record++;
  }

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.ids.set(s, id);
      this.strings.push(s);
    }
    return id;
  }

  /** The series' label names and values as ids, kept on its SymbolIds. */
  private labelIds(s: SeriesEntry): Int32Array {
    const kept = s.symbolIds!;
    if (kept.epoch === this.epoch) return kept.ids;
    const ids: number[] = [];
    for (const name in s.labels) ids.push(this.id(name), this.id(s.labels[name]!));
    kept.epoch = this.epoch;
    kept.ids = Int32Array.from(ids);
    return kept.ids;
  }

  /** The id's place in this record's symbols, adding it on first use. */
  private ref(id: number, symbols: string[]): number {
    if (id >= this.mark.length) this.grow(id + 1);
    if (this.mark[id] !== this.record) {
      this.mark[id] = this.record;
      this.local[id] = symbols.length;
      symbols.push(this.strings[id]!);
    }
    return this.local[id]!;
  }

  private grow(size: number): void {
    const length = Math.max(size, this.mark.length * 2);
    const mark = new Int32Array(length);
    mark.set(this.mark);
    const local = new Int32Array(length);
    local.set(this.local);
    this.mark = mark;
    this.local = local;
  }
}

const symbolTable = new SymbolTable();

/**
 * Records are written into shared slabs, like Node's own Buffer pool does for
 * small buffers: a record takes what it used, not its bound, and there is no
 * allocation of its own (a record of tens of KB would otherwise get a fresh
 * ArrayBuffer each). A slab is only written ahead of what was handed out.
 */
const SLAB_BYTES = 1024 * 1024;
let slab = Buffer.allocUnsafe(SLAB_BYTES);
let slabView = new DataView(slab.buffer, slab.byteOffset, slab.byteLength);
let slabUsed = 0;

/** Avro's primitives into a buffer known to be large enough. */
class Writer {
  private readonly buf: Buffer;
  private readonly view: DataView;
  private readonly start: number;
  private pos: number;

  constructor(bound: number) {
    if (slab.length - slabUsed < bound) {
      slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, bound));
      slabView = new DataView(slab.buffer, slab.byteOffset, slab.byteLength);
      slabUsed = 0;
    }
    this.buf = slab;
    this.view = slabView;
    this.start = this.pos = slabUsed;
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** An array's block count: nothing for an empty array, whose only block is the closing zero. */
  blockStart(count: number): void {
    if (count > 0) this.long(count);
  }

  /** Zigzag varint, exact for every safe integer (as avsc writes longs). */
  long(n: number): void {
    const buf = this.buf;
    let pos = this.pos;
    if (n >= -0x40000000 && n < 0x40000000) {
      let z = (n << 1) ^ (n >> 31);
      while (z > 0x7f || z < 0) {
        buf[pos++] = (z & 0x7f) | 0x80;
        z >>>= 7;
      }
      buf[pos++] = z;
    } else {
      let z = n >= 0 ? n * 2 : -n * 2 - 1;
      while (z >= 0x80) {
        buf[pos++] = (z % 0x80) | 0x80;
        z = Math.floor(z / 0x80);
      }
      buf[pos++] = z;
    }
    this.pos = pos;
  }

  /** A non-negative int below 2^30 (a reference, a count): zigzag is then twice the number. */
  count(n: number): void {
    const buf = this.buf;
    let z = n * 2;
    while (z > 0x7f) {
      buf[this.pos++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    buf[this.pos++] = z;
  }

  double(d: number): void {
    this.view.setFloat64(this.pos, d, true);
    this.pos += 8;
  }

  string(s: string): void {
    const len = s.length;
    let ascii = true;
    for (let i = 0; i < len; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      const bytes = Buffer.byteLength(s);
      this.long(bytes);
      this.pos += this.buf.utf8Write(s, this.pos, bytes);
      return;
    }
    this.long(len);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < len; i++) buf[pos++] = s.charCodeAt(i);
    this.pos = pos;
  }

  done(): Buffer {
    slabUsed = this.pos;
    return this.buf.subarray(this.start, this.pos);
  }
}

declare global {
  interface Buffer {
    /** Node's UTF-8 encoder behind `write`, without its argument handling. */
    utf8Write(s: string, offset: number, length: number): number;
  }
}
