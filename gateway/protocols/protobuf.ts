import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { badRequest, describeError } from '../../lib/errors.ts';

/**
 * Protobuf decoding for the ingest protocols: message types loaded once from
 * schemas/proto/, and a reader that hands 64-bit integers back as plain
 * numbers. protobufjs would otherwise build a Long object for every int64
 * (each sample's timestamp), which costs more than the sample itself.
 */

const PROTO_DIR = fileURLToPath(new URL('../../schemas/proto/', import.meta.url));

/**
 * A message type from a .proto file under schemas/proto/, field names as
 * written there (snake_case). Imports are read from schemas/proto/ as the
 * root, as protoc's `-I` would (the OTLP files import each other so).
 */
export function protoType(file: string, name: string): protobuf.Type {
  let root = roots.get(file);
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
    root.loadSync(file, { keepCase: true });
    roots.set(file, root);
  }
  return root.lookupType(name);
}
const roots = new Map<string, protobuf.Root>();

/**
 * `bytes` decoded as `type`; anything that is not such a message is a 400 that
 * names it. A string field whose bytes are not valid UTF-8 makes the whole
 * message such a 400 (protobufjs verifies proto3 strings); with
 * `markInvalidUtf8` it comes back marked instead (see hasInvalidUtf8), so
 * that the caller can refuse just the item that holds it.
 */
export function decodeProto<T>(type: protobuf.Type, bytes: Uint8Array, opts: { markInvalidUtf8?: boolean } = {}): T {
  try {
    return decodeMessage<T>(type, bytes, opts);
  } catch (err) {
    throw badRequest(`malformed protobuf: the body is not a valid ${type.fullName.slice(1)} (${describeError(err)})`);
  }
}

/** `bytes` decoded as `type`, with protobufjs's own error when they are not one (for callers that name what was malformed). */
export function decodeMessage<T>(type: protobuf.Type, bytes: Uint8Array, opts: { markInvalidUtf8?: boolean } = {}): T {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return type.decode(opts.markInvalidUtf8 ? new Utf8MarkingReader(buf) : new NumberReader(buf)) as T;
}

/**
 * Proto3 leaves zero values off the wire, and protobufjs then answers with
 * the prototype's default, which for 64-bit fields is a Long: read those
 * fields through this.
 */
export const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

/**
 * A varint read as two 32-bit halves into `lo`/`hi` (no allocation), then
 * turned into a number: exact up to 2^53, which covers millisecond
 * timestamps and any count a request can hold.
 */
let lo = 0;
let hi = 0;

function readVarint64(r: protobuf.Reader): void {
  const buf = r.buf;
  let pos = r.pos;
  lo = 0;
  hi = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= r.len) throw RangeError(`index out of range: ${pos} + 1 > ${r.len}`);
    const b = buf[pos++]!;
    const bits = b & 0x7f;
    if (i < 4) lo = (lo | (bits << (7 * i))) >>> 0;
    else if (i === 4) {
      lo = (lo | (bits << 28)) >>> 0;
      hi = bits >>> 4;
    } else hi = (hi | (bits << (7 * i - 32))) >>> 0;
    if (b < 0x80) {
      r.pos = pos;
      return;
    }
  }
  throw Error('invalid varint encoding');
}

function signed(): number {
  if (hi >>> 31 === 0) return hi * 4294967296 + lo;
  const l = (~lo + 1) >>> 0;
  let h = ~hi >>> 0;
  if (l === 0) h = (h + 1) >>> 0;
  return -(h * 4294967296 + l);
}

class NumberReader extends protobuf.BufferReader {}
Object.assign(NumberReader.prototype, {
  int64(this: protobuf.Reader): number {
    readVarint64(this);
    return signed();
  },
  uint64(this: protobuf.Reader): number {
    readVarint64(this);
    return hi * 4294967296 + lo;
  },
  sint64(this: protobuf.Reader): number {
    readVarint64(this);
    const mask = -(lo & 1);
    lo = ((lo >>> 1) | (hi << 31)) ^ mask;
    lo >>>= 0;
    hi = ((hi >>> 1) ^ mask) >>> 0;
    return signed();
  },
  // OTLP's times (nanoseconds) and counts: exact to 2^53, nanosecond times to about 256 ns.
  fixed64(this: protobuf.Reader): number {
    readFixed64(this);
    return hi * 4294967296 + lo;
  },
  sfixed64(this: protobuf.Reader): number {
    readFixed64(this);
    return signed();
  },
});

function readFixed64(r: protobuf.Reader): void {
  if (r.pos + 8 > r.len) throw RangeError(`index out of range: ${r.pos} + 8 > ${r.len}`);
  const buf = r.buf;
  const p = r.pos;
  lo = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
  hi = (buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24)) >>> 0;
  r.pos = p + 8;
}

/**
 * Node decodes bytes that are not UTF-8 to U+FFFD, and a string decoded from
 * bytes never holds a lone surrogate: a string that starts with this lone low
 * surrogate came from bytes that were not valid UTF-8 (the rest is the text
 * as Node repaired it, fit for an error message).
 */
export const INVALID_UTF8 = '\udfff';

/** Whether a string decoded with `markInvalidUtf8` came from bytes that were not valid UTF-8. */
export const hasInvalidUtf8 = (s: string): boolean => s.charCodeAt(0) === 0xdfff;

/** The text of a string for a message, without the mark. */
export const printable = (s: string): string => (hasInvalidUtf8(s) ? s.slice(1) : s);

function readMarkingInvalidUtf8(this: protobuf.Reader): string {
  const len = this.uint32();
  const start = this.pos;
  const end = start + len;
  if (end > this.len) throw RangeError(`index out of range: ${start} + ${len} > ${this.len}`);
  this.pos = end;
  const text = (this.buf as Buffer).toString('utf8', start, end);
  // Only a U+FFFD in the text can mean repaired bytes (or a real U+FFFD): only then are the bytes checked.
  return text.includes('\ufffd') && !isUtf8(this.buf.subarray(start, end)) ? INVALID_UTF8 + text : text;
}

class Utf8MarkingReader extends NumberReader {}
// protobufjs reads proto3 strings with stringVerify (throws on bad UTF-8), others with string.
Object.assign(Utf8MarkingReader.prototype, { string: readMarkingInvalidUtf8, stringVerify: readMarkingInvalidUtf8 });
