import { isUtf8 } from 'node:buffer';
import { INVALID_UTF8 } from './protobuf.ts';

/**
 * The protobuf wire format read by hand, for the hot path of remote-write:
 * a request of thousands of series decoded straight into what the gateway
 * keeps, without protobufjs's object per message (one per label, one per
 * sample). Integers come back as plain numbers (exact up to 2^53, like
 * protobuf.ts's NumberReader); strings go through a small table of recent
 * ones, since label names and values repeat from series to series and from
 * request to request. Anything that is not well-formed protobuf throws a
 * WireError; callers turn it into their 400.
 */

export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
export const FIXED32 = 5;

export class WireError extends Error {
  override name = 'WireError';
}

export class WireReader {
  pos: number;
  /** The whole of `buf`, for reading fixed-size values at any offset. */
  readonly view: DataView;

  constructor(
    readonly buf: Buffer,
    start = 0,
    /** Where this reader's message ends. */
    public end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** A varint of up to 32 bits (tags, lengths, enum values, uint32 fields); higher bits are dropped, as protobufjs does. */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= this.end) throw new WireError(`truncated varint at ${pos}`);
      const b = buf[pos++]!;
      if (shift < 32) value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    throw new WireError(`varint longer than 10 bytes at ${this.pos}`);
  }

  /** An int64 varint as a number (two's complement: negative timestamps stay negative). */
  int64(): number {
    const buf = this.buf;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) throw new WireError(`truncated varint at ${pos}`);
      const b = buf[pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi = bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) {
        this.pos = pos;
        lo >>>= 0;
        hi >>>= 0;
        if (hi >>> 31 === 0) return hi * 4294967296 + lo;
        const l = (~lo + 1) >>> 0;
        return -((l === 0 ? (~hi + 1) >>> 0 : ~hi >>> 0) * 4294967296 + l);
      }
    }
    throw new WireError(`varint longer than 10 bytes at ${this.pos}`);
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new WireError(`truncated double at ${this.pos}`);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** A length-delimited field's length, checked against the message's end; the field's bytes start at `pos`. */
  length(): number {
    const len = this.uint32();
    if (len > this.end - this.pos) throw new WireError(`length ${len} at ${this.pos} runs past the end of its message`);
    return len;
  }

  /**
   * Into the length-delimited message whose tag was just read: the reader
   * ends where it does until `leave(outer)`, given what this returned.
   */
  enter(): number {
    const len = this.length();
    const outer = this.end;
    this.end = this.pos + len;
    return outer;
  }

  /** Out of the message `enter` went into (every read stops at its end, so the reader is there). */
  leave(outer: number): void {
    this.end = outer;
  }

  /** Past a field of this wire type whose tag was just read. */
  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.int64();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case LENGTH_DELIMITED:
        this.advance(this.length());
        return;
      case FIXED32:
        this.advance(4);
        return;
      default:
        // Groups (3, 4) are proto2's and never in these messages; 6 and 7 do not exist.
        throw new WireError(`invalid wire type ${wireType} at ${this.pos}`);
    }
  }

  private advance(bytes: number): void {
    if (this.pos + bytes > this.end) throw new WireError(`truncated field at ${this.pos}`);
    this.pos += bytes;
  }

  /** The string in bytes [start, end), marked when they are not UTF-8 (see protobuf.ts's hasInvalidUtf8). */
  string(start: number, end: number): string {
    return readString(this.buf, start, end);
  }
}

/**
 * Recent short ASCII strings by a hash of their bytes: a name or value seen
 * before comes back as the same string, with no decoding and no allocation
 * (and its hash already computed for the Maps it meets next). A slot holds
 * the last string that hashed to it, so the table never grows.
 */
const TABLE_SIZE = 1 << 15;
const MAX_CACHED = 64;
const table: string[] = new Array<string>(TABLE_SIZE).fill('');

export function readString(buf: Buffer, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return '';
  if (len > MAX_CACHED) return decodeUtf8(buf, start, end);
  let hash = 0x811c9dc5;
  let high = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    high |= b;
    hash = Math.imul(hash ^ b, 0x01000193);
  }
  if (high >= 0x80) return decodeUtf8(buf, start, end);
  const slot = (hash >>> 0) & (TABLE_SIZE - 1);
  const cached = table[slot]!;
  if (cached.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (cached.charCodeAt(i) !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const fresh = buf.latin1Slice(start, end);
  table[slot] = fresh;
  return fresh;
}

function decodeUtf8(buf: Buffer, start: number, end: number): string {
  const text = buf.utf8Slice(start, end);
  // Only a U+FFFD in the text can mean repaired bytes (or a real U+FFFD): only then are the bytes checked.
  return text.includes('\ufffd') && !isUtf8(buf.subarray(start, end)) ? INVALID_UTF8 + text : text;
}

declare global {
  interface Buffer {
    /** Node's own decoders behind `toString`, without its argument checks and encoding lookup (on every Buffer since Node 0.x). */
    latin1Slice(start: number, end: number): string;
    utf8Slice(start: number, end: number): string;
  }
}
