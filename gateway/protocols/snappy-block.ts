import { AutopilotError, badRequest } from '../../lib/errors.ts';

/**
 * Snappy block format (not the framed stream format), as remote-write and
 * Loki's protobuf push use it. A block starts with its uncompressed length
 * as a varint, so a body that would inflate past the limit is refused before
 * any memory is given to it.
 *
 * Decoded here rather than by the `snappy` package: its native binding took
 * 4 to 5 times longer on remote-write bodies (about 1 ms for 270 KB, some 8%
 * of the gateway's CPU under the remote-write benchmark), and the format is
 * two kinds of element: literals, and copies of what was already written.
 */
export function uncompressSnappyBlock(body: Uint8Array, maxDecodedBytes: number, opts: { transient?: boolean } = {}): Buffer {
  const { length, start } = declaredLength(body);
  if (length > maxDecodedBytes) {
    throw new AutopilotError('payload_too_large', `body decompresses to ${length} bytes, over the limit of ${maxDecodedBytes}; send smaller batches`);
  }
  return uncompress(body, start, length, opts.transient ? scratchOf(length) : Buffer.allocUnsafe(length));
}

/**
 * With `transient`, the bytes are decoded into one buffer reused by the next
 * call: for a caller that is done with them before it returns (remote-write
 * decodes synchronously and copies what it keeps). A request then costs no
 * allocation of its body's size (270 KB in the remote-write benchmark).
 */
let scratch = Buffer.allocUnsafe(0);
const MAX_SCRATCH_BYTES = 4 * 1024 * 1024;

function scratchOf(length: number): Buffer {
  if (length > MAX_SCRATCH_BYTES) return Buffer.allocUnsafe(length);
  if (scratch.length < length) scratch = Buffer.allocUnsafe(Math.max(length, Math.min(MAX_SCRATCH_BYTES, scratch.length * 2)));
  return scratch.subarray(0, length);
}

const malformed = (why: string) => badRequest(`malformed snappy: the body is not snappy block-compressed (${why})`);

/** The uncompressed length a snappy block declares (a little-endian base-128 varint of at most 32 bits), and where the elements start. */
function declaredLength(body: Uint8Array): { length: number; start: number } {
  let length = 0;
  for (let i = 0; i < 5 && i < body.length; i++) {
    const b = body[i]!;
    length += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (length > 0xffffffff) break;
      return { length, start: i + 1 };
    }
  }
  throw badRequest('malformed snappy: the body does not start with a valid uncompressed length');
}

function uncompress(body: Uint8Array, start: number, length: number, dst: Buffer): Buffer {
  const src = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const end = src.length;
  let s = start;
  let d = 0;
  while (s < end) {
    const tag = src[s++]!;
    const kind = tag & 3;
    if (kind === 0) {
      // A literal: its length - 1 in the tag's upper 6 bits, or in the 1 to 4 bytes after it (60 to 63).
      let len = tag >>> 2;
      if (len >= 60) {
        const bytes = len - 59;
        if (bytes > end - s) throw malformed(`a literal's length runs past the input at ${s}`);
        len = 0;
        for (let i = 0; i < bytes; i++) len += src[s++]! * 2 ** (8 * i);
      }
      len += 1;
      if (len > end - s || len > length - d) throw malformed(`a literal of ${len} bytes at ${s} runs past the input or the declared length`);
      // Short ones byte by byte: cheaper than a call into Node.
      if (len < 16) for (let i = 0; i < len; i++) dst[d++] = src[s++]!;
      else {
        src.copy(dst, d, s, s + len);
        s += len;
        d += len;
      }
    } else {
      // A copy of `len` bytes from `offset` bytes back, with 1, 2 or 4 offset bytes after the tag. Offset
      // bytes past the end of the input read as undefined: the check after the loop refuses such a body.
      let len: number;
      let offset: number;
      if (kind === 1) {
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | src[s++]!;
      } else if (kind === 2) {
        len = (tag >>> 2) + 1;
        offset = src[s]! | (src[s + 1]! << 8);
        s += 2;
      } else {
        len = (tag >>> 2) + 1;
        offset = (src[s]! | (src[s + 1]! << 8) | (src[s + 2]! << 16) | (src[s + 3]! << 24)) >>> 0;
        s += 4;
      }
      if (offset === 0 || offset > d || len > length - d) throw malformed(`a copy of ${len} bytes from ${offset} back at ${d} reaches outside the output`);
      if (offset >= len && len >= 16) {
        dst.copyWithin(d, d - offset, d - offset + len);
        d += len;
      } else {
        // Overlapping (offset < len) repeats the last `offset` bytes: byte by byte, as the format means it.
        for (let i = 0; i < len; i++, d++) dst[d] = dst[d - offset]!;
      }
    }
  }
  if (s !== end || d !== length) throw malformed(`${d} bytes decoded, ${length} declared`);
  return dst;
}
