import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

describe('durations', () => {
  it('reads Prometheus-style durations, units largest first', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1d2h')).toBe(26 * 3_600_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1m5ms')).toBe(60_005);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration('0')).toBe(0);
  });

  it('refuses what is not one', () => {
    for (const bad of ['', '5', '30m1h', '5 m', '1.5h', '-5m', '5min', '5M', '1h1h']) expect(parseDuration(bad), bad).toBeNull();
  });

  it('writes text that reads back the same, in hours at most', () => {
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(24 * 3_600_000)).toBe('24h');
    expect(formatDuration(0)).toBe('0s');
    for (const ms of [1, 999, 60_000, 3_723_456]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
