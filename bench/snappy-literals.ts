/**
 * A snappy block rewritten so that chosen bytes of its uncompressed content
 * can be overwritten in the compressed bytes, with no compressing again.
 *
 * Snappy's block format is a list of literals and copies (a length and a
 * distance back into the output). A byte can be changed in place when it is
 * written by a literal and no copy reads it. `snappy.compressSync` gives no
 * such guarantee, so its output is re-encoded: every copy byte that lands on
 * or reads from a chosen byte becomes a literal byte, everything else stays
 * as snappy chose it. The result is still a plain snappy block any decoder
 * reads; it is only a little larger than snappy's own.
 */

export interface PatchableBlock {
  /** The snappy block (uncompressed-length preamble, then elements). */
  bytes: Buffer;
  /**
   * For each uncompressed position that was marked changeable: where it sits
   * in `bytes`; -1 for the others. Consecutive changeable positions sit at
   * consecutive offsets, so a field can be written with one call.
   */
  offsetOf: Int32Array;
}

/**
 * `compressed` (a snappy block of `raw`) re-encoded so that every position
 * `p` with `changeable[p] !== 0` is a literal byte no copy reads.
 */
export function patchableBlock(compressed: Uint8Array, raw: Uint8Array, changeable: Uint8Array): PatchableBlock {
  const distance = copyDistances(compressed, raw.length);
  const out = new BlockWriter(raw.length);
  const offsetOf = new Int32Array(raw.length).fill(-1);
  let p = 0;
  while (p < raw.length) {
    if (isLiteral(p, distance, changeable)) {
      const start = p;
      while (p < raw.length && isLiteral(p, distance, changeable)) p++;
      const at = out.literal(raw, start, p);
      for (let q = start; q < p; q++) if (changeable[q]) offsetOf[q] = at + (q - start);
    } else {
      const d = distance[p]!;
      const start = p;
      while (p < raw.length && distance[p] === d && !isLiteral(p, distance, changeable)) p++;
      out.copy(d, p - start);
    }
  }
  return { bytes: out.finish(), offsetOf };
}

function isLiteral(p: number, distance: Int32Array, changeable: Uint8Array): boolean {
  const d = distance[p]!;
  return d === 0 || changeable[p] !== 0 || changeable[p - d] !== 0;
}

/**
 * For each uncompressed position: 0 if a literal writes it, else the
 * distance back of the copy that does. Throws on a block that does not
 * decode to `length` bytes.
 */
function copyDistances(block: Uint8Array, length: number): Int32Array {
  const distance = new Int32Array(length);
  let pos = 0;
  let declared = 0;
  for (let shift = 0; ; shift += 7) {
    const b = block[pos++]!;
    declared += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (declared !== length) throw new Error(`snappy block declares ${declared} bytes, expected ${length}`);
  let p = 0;
  while (pos < block.length) {
    const tag = block[pos++]!;
    let len: number;
    let d = 0;
    switch (tag & 3) {
      case 0: {
        const n = tag >> 2;
        if (n < 60) len = n + 1;
        else {
          const width = n - 59;
          len = 1;
          for (let i = 0; i < width; i++) len += block[pos + i]! * 2 ** (8 * i);
          pos += width;
        }
        pos += len;
        break;
      }
      case 1:
        len = ((tag >> 2) & 7) + 4;
        d = ((tag >> 5) << 8) | block[pos++]!;
        break;
      case 2:
        len = (tag >> 2) + 1;
        d = block[pos]! | (block[pos + 1]! << 8);
        pos += 2;
        break;
      default:
        len = (tag >> 2) + 1;
        d = (block[pos]! | (block[pos + 1]! << 8) | (block[pos + 2]! << 16)) + block[pos + 3]! * 2 ** 24;
        pos += 4;
    }
    if (p + len > length || d > p) throw new Error(`snappy element at output ${p} runs outside the ${length} bytes`);
    distance.fill(d, p, p + len);
    p += len;
  }
  if (p !== length) throw new Error(`snappy block decodes to ${p} bytes, expected ${length}`);
  return distance;
}

/** Snappy block elements appended to one buffer. */
class BlockWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(length: number) {
    // Worst case: every byte its own 1-byte copy with a 4-byte distance (5 bytes each), plus the preamble.
    this.buf = Buffer.allocUnsafe(5 * length + 16);
    let n = length;
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  /** raw[start, end) as one literal element; answers where its first byte was written. */
  literal(raw: Uint8Array, start: number, end: number): number {
    const n = end - start - 1;
    if (n < 60) this.buf[this.pos++] = n << 2;
    else {
      const width = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
      this.buf[this.pos++] = (59 + width) << 2;
      for (let i = 0; i < width; i++) this.buf[this.pos++] = (n >>> (8 * i)) & 0xff;
    }
    const at = this.pos;
    this.buf.set(raw.subarray(start, end), at);
    this.pos += end - start;
    return at;
  }

  /** A copy of `len` bytes from `distance` back, in elements of at most 64 bytes. */
  copy(distance: number, len: number): void {
    while (len > 0) {
      const n = Math.min(len, 64);
      if (n >= 4 && n <= 11 && distance < 2048) {
        this.buf[this.pos++] = 1 | ((n - 4) << 2) | ((distance >> 8) << 5);
        this.buf[this.pos++] = distance & 0xff;
      } else if (distance < 0x10000) {
        this.buf[this.pos++] = 2 | ((n - 1) << 2);
        this.buf.writeUInt16LE(distance, this.pos);
        this.pos += 2;
      } else {
        this.buf[this.pos++] = 3 | ((n - 1) << 2);
        this.buf.writeUInt32LE(distance, this.pos);
        this.pos += 4;
      }
      len -= n;
    }
  }

  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
