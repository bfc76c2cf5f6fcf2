import { describe, expect, it } from 'vitest';
import { ticksBetween } from './ticks.ts';

const T = Date.parse('2026-12-02T10:00:00Z');

describe('ticksBetween', () => {
  it('lists the ticks in (from, to]: the end is included, the start is not', () => {
    expect(ticksBetween({ schedule: '*/15 * * * * *', timezone: 'UTC' }, T, T + 45_000)).toEqual([T + 15_000, T + 30_000, T + 45_000]);
  });

  it('reads five fields minute first and six seconds first', () => {
    expect(ticksBetween({ schedule: '30 10 * * *', timezone: 'UTC' }, T, T + 3_600_000)).toEqual([T + 30 * 60_000]);
    expect(ticksBetween({ schedule: '30 10 * * * *', timezone: 'UTC' }, T, T + 120_000)).toEqual([T + 10 * 60_000 + 30_000].filter((t) => t <= T + 120_000));
    expect(ticksBetween({ schedule: '30 * * * * *', timezone: 'UTC' }, T, T + 120_000)).toEqual([T + 30_000, T + 90_000]);
  });

  it('reads the schedule in its time zone', () => {
    // 09:00 in Paris is 08:00 UTC in December.
    const day = Date.parse('2026-12-02T00:00:00Z');
    expect(ticksBetween({ schedule: '0 9 * * *', timezone: 'Europe/Paris' }, day, day + 86_400_000)).toEqual([Date.parse('2026-12-02T08:00:00Z')]);
  });
});
