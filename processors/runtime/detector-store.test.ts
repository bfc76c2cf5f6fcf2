import { describe, expect, it } from 'vitest';
import { gaussian, seededRandom } from '../../test/helpers/random.ts';
import { emptyState, lastTimeOf, observe } from './detector.ts';
import { decodeState, encodeState, STATE_BYTES } from './detector-store.ts';

describe('detector states as bytes', () => {
  it('round-trips a state exactly: the restored model judges the next sample as the original does', () => {
    const r = seededRandom(1);
    const state = emptyState();
    for (let i = 0; i < 500; i++) observe(state, i * 15_000, 100 + 5 * gaussian(r) + (i === 400 ? 80 : 0));
    const bytes = encodeState(state);
    expect(bytes).toHaveLength(STATE_BYTES);
    const back = decodeState(bytes);
    expect(back).toEqual(state);
    expect(observe(back, 500 * 15_000, 103)).toEqual(observe(state, 500 * 15_000, 103));
  });

  it('costs the same few hundred bytes after ten samples or a hundred thousand', () => {
    const young = emptyState();
    const old = emptyState();
    for (let i = 0; i < 10; i++) observe(young, i, i);
    for (let i = 0; i < 100_000; i++) observe(old, i, Math.sin(i));
    expect(encodeState(young).length).toBe(encodeState(old).length);
    expect(STATE_BYTES).toBeLessThan(1024);
  });

  it('starts afresh from what earlier versions stored, keeping the time of the last sample they judged', () => {
    // JSON baselines (before bytes), and format 1: tag, streak (Int32), last (Float64), counts, values.
    const json = decodeState(Buffer.from(JSON.stringify({ values: [1, 2, 3], streak: 0, recent: [], last: 42 })));
    expect(lastTimeOf(json)).toBe(42);
    const v1 = Buffer.alloc(21 + 16);
    v1.writeUInt8(1, 0);
    v1.writeDoubleLE(1_796_000_000_123, 5);
    v1.writeUInt32LE(2, 17);
    const fromV1 = decodeState(v1);
    expect(lastTimeOf(fromV1)).toBe(1_796_000_000_123);
    expect(observe(fromV1, 1_796_000_001_000, 5).score).toBe(0); // learning again
    expect(lastTimeOf(decodeState(Buffer.from(JSON.stringify({ values: [], streak: 0, recent: [] }))))).toBe(Number.NEGATIVE_INFINITY);
  });

  it('refuses bytes it did not write rather than misreading them', () => {
    expect(() => decodeState(Buffer.from([9, 0, 0]))).toThrow(/unknown detector state format/);
    expect(() => decodeState(encodeState(emptyState()).subarray(0, 100))).toThrow(/unknown detector state format/);
  });
});
