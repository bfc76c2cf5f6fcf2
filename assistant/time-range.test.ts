import { describe, expect, it } from 'vitest';
import { parseTimePoint, rangeArgs, resolveRange } from './time-range.ts';

/** Time points and ranges as the tools take them, against a fixed "now" (UTC throughout). */
const NOW = Date.parse('2026-12-02T15:30:00Z');
const HOUR = 3_600_000;
const at = (text: string) => {
  const p = parseTimePoint(text, NOW);
  return p.ok ? new Date(p.at).toISOString() : p.error;
};

describe('parseTimePoint', () => {
  it('reads now, durations back, days, clock times and ISO 8601', () => {
    expect(at('now')).toBe('2026-12-02T15:30:00.000Z');
    expect(at('2h')).toBe('2026-12-02T13:30:00.000Z');
    expect(at('1h30m')).toBe('2026-12-02T14:00:00.000Z');
    expect(at('90m ago')).toBe('2026-12-02T14:00:00.000Z');
    expect(at('7d')).toBe('2026-11-25T15:30:00.000Z');
    expect(at('Today')).toBe('2026-12-02T00:00:00.000Z');
    expect(at('yesterday')).toBe('2026-12-01T00:00:00.000Z');
    expect(at('14:00')).toBe('2026-12-02T14:00:00.000Z');
    expect(at('9:05:30')).toBe('2026-12-02T09:05:30.000Z');
    // A clock time later than now is yesterday's.
    expect(at('16:00')).toBe('2026-12-01T16:00:00.000Z');
    expect(at('2026-12-01')).toBe('2026-12-01T00:00:00.000Z');
    // Without an offset a date-time is UTC (Date.parse alone would read it as local time).
    expect(at('2026-12-02T14:00')).toBe('2026-12-02T14:00:00.000Z');
    expect(at('2026-12-02 14:00:00')).toBe('2026-12-02T14:00:00.000Z');
    expect(at('2026-12-02T14:00:00+01:00')).toBe('2026-12-02T13:00:00.000Z');
    expect(at('2026-12-02T14:00:00.250Z')).toBe('2026-12-02T14:00:00.250Z');
  });

  it('refuses what it cannot read, saying what it takes', () => {
    for (const bad of ['last tuesday', '25:00', '14h00', '2h30', '', 'since 2h', '2026-13-45T99:00', 'DROP TABLE']) {
      expect(at(bad), bad).toMatch(/is not a time: use 'now', a duration back/);
    }
  });

  it('the schema checks the form (bounded), the range checks the rest', () => {
    const { since } = rangeArgs('1h');
    expect(since.safeParse('2h').success).toBe(true);
    expect(since.safeParse('next week').success).toBe(false);
    expect(since.safeParse(`${'1'.repeat(41)}`).success).toBe(false);
  });
});

describe('resolveRange', () => {
  const o = { defaultMs: HOUR, maxMs: 7 * 24 * HOUR };
  it('defaults to the last defaultMs before until, until to now, and never past now', () => {
    expect(resolveRange({}, NOW, o)).toEqual({ from: NOW - HOUR, to: NOW });
    expect(resolveRange({ until: '2h' }, NOW, o)).toEqual({ from: NOW - 3 * HOUR, to: NOW - 2 * HOUR });
    expect(resolveRange({ since: '14:00', until: '2026-12-03T00:00Z' }, NOW, o)).toEqual({ from: NOW - 1.5 * HOUR, to: NOW });
  });

  it('refuses a range that is empty, backwards or too long', () => {
    expect(() => resolveRange({ since: '1h', until: '2h' }, NOW, o)).toThrow('since (2026-12-02T14:30:00Z) must be before until (2026-12-02T13:30:00Z)');
    expect(() => resolveRange({ since: 'now' }, NOW, o)).toThrow(/must be before until/);
    expect(() => resolveRange({ since: '8d' }, NOW, o)).toThrow(/is longer than 7d/);
    expect(() => resolveRange({ since: 'soon' }, NOW, o)).toThrow(/'soon' is not a time/);
  });
});
