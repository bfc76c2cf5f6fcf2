import { readFileSync } from 'node:fs';
import snappy from 'snappy';
import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../../lib/errors.ts';
import { uncompressSnappyBlock } from './snappy-block.ts';

/**
 * The snappy block decoder against the `snappy` package (the reference the
 * gateway used before): every element kind, and every way a body can be cut
 * or damaged answered with a 400, never another error or a wrong body.
 */
const MAX = 1 << 24;

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = random(7);
const SAMPLES: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['random bytes (long literals)', Buffer.from(Array.from({ length: 70_000 }, () => Math.floor(rnd() * 256)))],
  ['one byte repeated (overlapping copies)', Buffer.alloc(100_000, 7)],
  ['text', Buffer.from('up{job="api", instance="10.0.0.1:9100"} 1\n'.repeat(3000))],
  [
    'a real remote-write body',
    snappy.uncompressSync(readFileSync(new URL('../../test/fixtures/remote-write/prometheus-2.42-write.bin', import.meta.url)), { asBuffer: true }) as Buffer,
  ],
];

describe('uncompressSnappyBlock', () => {
  it.each(SAMPLES)('gives back what snappy compressed: %s', (_name, raw) => {
    expect(uncompressSnappyBlock(snappy.compressSync(raw), MAX).equals(raw)).toBe(true);
  });

  it('reads the element kinds snappy rarely writes: 4-byte copy offsets and literal lengths in 1 to 4 bytes', () => {
    // 'abcd' as a literal, then copies of 4 bytes from 4 back with a 4-byte offset (kind 3), then a 61-byte literal whose length takes 2 bytes.
    const literal61 = Buffer.alloc(61, 0x78);
    const body = Buffer.concat([
      Buffer.from([4 + 61 + 8, 3 << 2, 0x61, 0x62, 0x63, 0x64]),
      Buffer.from([((8 - 1) << 2) | 3, 4, 0, 0, 0]),
      Buffer.from([61 << 2, 60, 0]),
      literal61,
    ]);
    expect(uncompressSnappyBlock(body, MAX).toString()).toBe(`abcdabcdabcd${'x'.repeat(61)}`);
    // The same literal with its length in 3 and 4 bytes.
    for (const code of [62, 63]) {
      const lengthBytes = Buffer.alloc(code - 59);
      lengthBytes[0] = 60;
      expect(uncompressSnappyBlock(Buffer.concat([Buffer.from([61, code << 2]), lengthBytes, literal61]), MAX).equals(literal61)).toBe(true);
    }
  });

  it('refuses a body cut inside its last copy offset, though the output came out whole', () => {
    // 'abcd', then a 2-byte-offset copy of 4 bytes from 4 back, its offset's high byte cut off. The decoder reads offset
    // bytes without checking each against the input's end (cheaper) and checks where it stopped instead: without that
    // check, this body was accepted as 'abcdabcd'.
    const whole = Buffer.from([8, 3 << 2, 0x61, 0x62, 0x63, 0x64, ((4 - 1) << 2) | 2, 4, 0]);
    expect(uncompressSnappyBlock(whole, MAX).toString()).toBe('abcdabcd');
    expect(thrown(() => uncompressSnappyBlock(whole.subarray(0, whole.length - 1), MAX))?.message).toMatch(/^malformed snappy/);
  });

  it('refuses every cut of a body with a 400 naming snappy, and never answers with other bytes', () => {
    const body = snappy.compressSync(SAMPLES[3]![1]);
    for (let cut = 1; cut < body.length; cut++) {
      const err = thrown(() => uncompressSnappyBlock(body.subarray(0, cut), MAX));
      expect([err?.status, err?.message.startsWith('malformed snappy')]).toEqual([400, true]);
    }
  });

  it('answers damaged bodies with a 400 or with bytes of the declared length, never with another error', () => {
    const body = snappy.compressSync(SAMPLES[4]![1]);
    const damage = random(11);
    for (let i = 0; i < 2000; i++) {
      const copy = Buffer.from(body);
      for (let j = 0; j < 3; j++) copy[1 + Math.floor(damage() * (copy.length - 1))] = Math.floor(damage() * 256);
      try {
        expect(uncompressSnappyBlock(copy, MAX).length).toBe(SAMPLES[4]![1].length);
      } catch (err) {
        expect(err).toBeInstanceOf(AutopilotError);
        expect((err as AutopilotError).status).toBe(400);
      }
    }
  });

  it('refuses a copy from before the start of the output', () => {
    expect(thrown(() => uncompressSnappyBlock(Buffer.from([5, 1, 2]), MAX))?.message).toMatch(/^malformed snappy/);
  });
});

function thrown(f: () => unknown): AutopilotError | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof AutopilotError) return err;
    throw err;
  }
  return undefined;
}
