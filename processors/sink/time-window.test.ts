import { describe, expect, it } from 'vitest';
import { splitByDay, timeWindowError } from './time-window.ts';

const DAY = 24 * 3600 * 1000;
const now = Date.UTC(2026, 11, 1, 12);

describe('event times the sink can store', () => {
  it('refuses what the TTL would drop unseen, what is far ahead, and what is not a time', () => {
    expect(timeWindowError(now - 29 * DAY, 30, now)).toBeUndefined();
    expect(timeWindowError(now + DAY - 1, 30, now)).toBeUndefined();
    expect(timeWindowError(now - 31 * DAY, 30, now)).toMatch(/older than the table's 30-day retention/);
    expect(timeWindowError(0, 395, now)).toBe("1970-01-01T00:00:00.000Z is older than the table's 395-day retention");
    expect(timeWindowError(Date.UTC(9999, 11, 31), 30, now)).toMatch(/more than a day in the future/);
    expect(timeWindowError('soon', 30, now)).toMatch(/is not a time/);
    expect(timeWindowError(new Date(now), 30, now)).toBeUndefined();
  });

  it('cuts a batch so that no insert spans more than 50 days (ClickHouse refuses over 100 partitions)', () => {
    const rows = Array.from({ length: 120 }, (_, i) => ({ at: now - i * DAY }));
    const parts = splitByDay(rows, (r) => r.at);
    expect(parts.map((p) => p.length)).toEqual([50, 50, 20]);
    expect(parts.flat()).toEqual(rows);
    const sameDay = Array.from({ length: 1000 }, (_, i) => ({ at: now + i }));
    expect(splitByDay(sameDay, (r) => r.at)).toEqual([sameDay]);
  });
});
