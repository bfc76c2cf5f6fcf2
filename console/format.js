/** How times and numbers read in the console: local time, relative ages, units. */

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** 12:03:10 */
export const clock = (ms) => timeFormat.format(new Date(ms));

/** 2 Dec 2026, 12:03:10 */
export const dateTime = (ms) => dateTimeFormat.format(new Date(ms));

/** "4 min ago", "2 h ago", "3 d ago" */
export function ago(ms, now = Date.now()) {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** A number with at most 3 significant digits and its unit: 1.23 s, 950 ms, 12.5 /s, 3.2 %. */
export function quantity(value, unit) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (unit === 'ms' && Math.abs(value) >= 1000) return `${trim(value / 1000)} s`;
  if (unit === '%') return `${trim(value * 100)} %`;
  return `${trim(value)} ${unit}`;
}

const trim = (v) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString() : Number(v.toPrecision(3)).toString());

/** 0.87 → "87 %" */
export const percent = (share) => (share === null || share === undefined ? '–' : `${Math.round(share * 100)} %`);
