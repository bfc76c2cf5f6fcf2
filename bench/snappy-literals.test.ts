import snappy from 'snappy';
import { describe, expect, it } from 'vitest';
import { patchableBlock } from './snappy-literals.ts';

const unsnappy = (b: Uint8Array) => snappy.uncompressSync(Buffer.from(b), { asBuffer: true }) as Buffer;

/** 400 records of the same 40 bytes but for an 8-byte field at offset 20: snappy copies most of each from the one before. */
function records(): { raw: Buffer; fields: number[] } {
  const raw = Buffer.alloc(400 * 40);
  const fields: number[] = [];
  for (let i = 0; i < 400; i++) {
    raw.write('series{job="node",instance="a"} 0000000000.', i * 40, 'latin1');
    raw.writeBigUInt64LE(42n, i * 40 + 20); // the same everywhere: snappy's own copies run across it
    fields.push(i * 40 + 20);
  }
  return { raw, fields };
}

describe('patchableBlock', () => {
  it('keeps the content and most of the compression', () => {
    const { raw, fields } = records();
    const changeable = new Uint8Array(raw.length);
    for (const at of fields) changeable.fill(1, at, at + 8);
    const block = patchableBlock(snappy.compressSync(raw), raw, changeable);
    expect(unsnappy(block.bytes).equals(raw)).toBe(true);
    expect(block.bytes.length).toBeLessThan(raw.length / 2);
  });

  it('lets every chosen byte be rewritten in place, the rest staying as it was', () => {
    const { raw, fields } = records();
    const changeable = new Uint8Array(raw.length);
    for (const at of fields) changeable.fill(1, at, at + 8);
    const own = snappy.compressSync(raw);
    const block = patchableBlock(own, raw, changeable);
    const want = Buffer.from(raw);
    fields.forEach((at, i) => {
      const offset = block.offsetOf[at]!;
      expect(offset).toBeGreaterThan(0);
      for (let b = 1; b < 8; b++) expect(block.offsetOf[at + b]).toBe(offset + b); // one field, one run
      block.bytes.writeBigUInt64LE(BigInt(1000 + i), offset);
      want.writeBigUInt64LE(BigInt(1000 + i), at);
    });
    expect(unsnappy(block.bytes).equals(want)).toBe(true);
    expect(block.offsetOf[0]).toBe(-1);
    // snappy's own block copies those fields: it could not have been patched so.
    expect(own.length).toBeLessThan(raw.length / 10);
  });

  it('keeps bytes that snappy copied from a chosen byte as they were', () => {
    // Each record: an 8-byte field, then the same 8 bytes as fixed text, which snappy copies from the field.
    const raw = Buffer.from(
      Array.from({ length: 200 }, (_, i) => `FIELD_${String(i % 100).padStart(2, '0')}FIELD_${String(i % 100).padStart(2, '0')}:fixed text;`).join(''),
      'latin1',
    );
    const size = raw.length / 200;
    const changeable = new Uint8Array(raw.length);
    for (let i = 0; i < 200; i++) changeable.fill(1, i * size, i * size + 8);
    const block = patchableBlock(snappy.compressSync(raw), raw, changeable);
    const want = Buffer.from(raw);
    for (let i = 0; i < 200; i++) {
      block.bytes.write('patched!', block.offsetOf[i * size]!, 'latin1');
      want.write('patched!', i * size, 'latin1');
    }
    expect(unsnappy(block.bytes).toString('latin1')).toBe(want.toString('latin1'));
  });

  it('refuses a block that is not the given content', () => {
    const raw = Buffer.from('abcdefgh'.repeat(10));
    expect(() => patchableBlock(snappy.compressSync(raw), Buffer.alloc(81), new Uint8Array(81))).toThrow(/declares 80 bytes, expected 81/);
  });
});
