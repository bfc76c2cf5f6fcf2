import snappy from 'snappy';
import { AutopilotError, badRequest, describeError } from '../../lib/errors.ts';

/**
 * Snappy block format (not the framed stream format), as remote-write and
 * Loki's protobuf push use it. A block starts with its uncompressed length
 * as a varint, so a body that would inflate past the limit is refused before
 * any memory is given to it.
 */
export function uncompressSnappyBlock(body: Uint8Array, maxDecodedBytes: number): Buffer {
  const length = declaredLength(body);
  if (length > maxDecodedBytes) {
    throw new AutopilotError('payload_too_large', `body decompresses to ${length} bytes, over the limit of ${maxDecodedBytes}; send smaller batches`);
  }
  try {
    return snappy.uncompressSync(body, { asBuffer: true }) as Buffer;
  } catch (err) {
    throw badRequest(`malformed snappy: the body is not snappy block-compressed (${describeError(err)})`);
  }
}

/** The uncompressed length a snappy block declares: a little-endian base-128 varint of at most 32 bits. */
function declaredLength(body: Uint8Array): number {
  let length = 0;
  for (let i = 0; i < 5 && i < body.length; i++) {
    const b = body[i]!;
    length += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (length > 0xffffffff) break;
      return length;
    }
  }
  throw badRequest('malformed snappy: the body does not start with a valid uncompressed length');
}
