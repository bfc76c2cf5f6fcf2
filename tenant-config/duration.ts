import { z } from 'zod';

/**
 * Prometheus-style durations: one or more `<integer><unit>` from largest to
 * smallest unit, each unit at most once (`30s`, `5m`, `1h30m`, `250ms`), or a
 * bare `0`. Units: d, h, m, s, ms. Rules are written by people, so the text
 * form is what the API takes and gives back; evaluation works in ms.
 */
const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
] as const;

const PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Milliseconds, or null when `text` is not a duration. */
export function parseDuration(text: string): number | null {
  if (text === '0') return 0;
  const m = PATTERN.exec(text);
  if (!m || text === '') return null;
  let ms = 0;
  UNITS.forEach(([, size], i) => {
    if (m[i + 1] !== undefined) ms += Number(m[i + 1]) * size;
  });
  return Number.isSafeInteger(ms) ? ms : null;
}

/** Text that parses back to `ms`, in hours at most (90_000 → `1m30s`, 0 → `0s`, a day → `24h`). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of UNITS) {
    if (unit === 'd') continue; // alert durations read better in hours (24h rather than 1d)
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/** A duration between `min` and `max` ms, as text (`30s`, `5m`): the API's form, checked, kept as written. */
export const durationText = (max: number, min = 0) =>
  z.string({ error: (iss) => (iss.input === undefined ? 'is required' : `must be a duration such as '30s', '5m' or '1h30m'`) }).superRefine((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({
        code: 'custom',
        message: `'${text}' is not a duration: use a number and a unit (ms, s, m, h, d), largest unit first, such as '30s', '5m' or '1h30m'`,
      });
      return;
    }
    if (ms < min) ctx.addIssue({ code: 'custom', message: `must be at least ${formatDuration(min)}` });
    if (ms > max) ctx.addIssue({ code: 'custom', message: `must be at most ${formatDuration(max)}` });
  });

/** Milliseconds of a duration `durationText` has accepted. */
export function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new Error(`'${text}' is not a duration`);
  return ms;
}
