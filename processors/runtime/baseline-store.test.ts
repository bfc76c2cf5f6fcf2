import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR, emptyBaseline, judge } from './baseline.ts';
import { decodeBaseline, encodeBaseline } from './baseline-store.ts';

describe('baselines as bytes', () => {
  it('round-trips a baseline exactly, NaN-free values, streak, recent and last included', () => {
    const state = emptyBaseline();
    for (let i = 0; i < 50; i++) judge(state, 100 + Math.sin(i) * 3 + 1e-9 * i, DEFAULT_DETECTOR);
    judge(state, 5000, DEFAULT_DETECTOR); // an anomaly: streak and recent are set
    state.last = 1_796_000_000_123;
    const back = decodeBaseline(encodeBaseline(state));
    expect(back).toEqual(state);
    expect(back.streak).toBe(1);
    // And the restored baseline judges the next sample exactly as the original does.
    expect(judge(back, 101, DEFAULT_DETECTOR)).toEqual(judge(state, 101, DEFAULT_DETECTOR));
  });

  it('costs 21 + 8 bytes per value, about half of the JSON it replaces', () => {
    const state = { ...emptyBaseline(), values: Array.from({ length: 1000 }, (_, i) => 123.456789 + i / 7) };
    expect(encodeBaseline(state).length).toBe(21 + 8 * 1000);
    expect(Buffer.byteLength(JSON.stringify(state))).toBeGreaterThan(2 * encodeBaseline(state).length);
  });

  it('reads the JSON baselines earlier versions stored, so an upgrade keeps what was learned', () => {
    const old = { values: [1, 2, 3], streak: -2, recent: [0.5, 0.4], last: 42 };
    expect(decodeBaseline(Buffer.from(JSON.stringify(old)))).toEqual(old);
    const noLast = { values: [1], streak: 0, recent: [] };
    expect(decodeBaseline(encodeBaseline(noLast))).toEqual(noLast);
  });

  it('refuses bytes it did not write rather than misreading them', () => {
    expect(() => decodeBaseline(Buffer.from([9, 0, 0]))).toThrow(/unknown baseline format/);
    expect(() => decodeBaseline(encodeBaseline({ values: [1, 2], streak: 0, recent: [] }).subarray(0, 30))).toThrow(/truncated/);
  });
});
