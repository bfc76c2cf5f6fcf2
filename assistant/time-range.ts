import { z } from 'zod';
import { isoTimeShort } from '../lib/time.ts';
import { formatDuration, parseDuration } from '../tenant-config/duration.ts';

/**
 * Time ranges as the tools take them: `since` and `until`, each a point in
 * time as a person or a model writes one, resolved against the message's
 * "now" (ToolContext.now), so every tool of one message agrees on it. All
 * clock times are UTC: Autopilot stores and shows UTC, and a question
 * carries no time zone.
 *
 * A point is one of:
 * - `now`
 * - a duration back from now: `2h`, `30m`, `1h30m`, `7d` (also `2h ago`)
 * - `today` (00:00 UTC) or `yesterday` (00:00 UTC the day before)
 * - a clock time `HH:MM` (or `HH:MM:SS`): its latest occurrence at or before now
 * - an ISO 8601 date or date-time, UTC unless it names an offset: `2026-12-02`, `2026-12-02T14:00`, `2026-12-02T14:00:00+01:00`
 */
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const CLOCK = /^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const AGO = /^(.+?)\s+ago$/i;

export const TIME_POINT_HELP =
  "'now', a duration back such as '2h' or '30m', 'today', 'yesterday', a UTC clock time such as '14:00', or ISO 8601 such as '2026-12-02T14:00Z'";

/** Epoch ms of `text` as of `now`, or an error message saying what is accepted. */
export function parseTimePoint(text: string, now: number): { ok: true; at: number } | { ok: false; error: string } {
  const t = text.trim().toLowerCase();
  const fail = { ok: false as const, error: `'${text}' is not a time: use ${TIME_POINT_HELP}` };
  if (t === 'now') return { ok: true, at: now };
  if (t === 'today') return { ok: true, at: startOfDay(now) };
  if (t === 'yesterday') return { ok: true, at: startOfDay(now) - DAY };
  const back = parseDuration(AGO.exec(t)?.[1] ?? t);
  if (back !== null) return { ok: true, at: now - back };
  const clock = CLOCK.exec(t);
  if (clock) {
    const at = startOfDay(now) + (Number(clock[1]) * 60 + Number(clock[2])) * MINUTE + Number(clock[3] ?? 0) * 1000;
    return { ok: true, at: at > now ? at - DAY : at };
  }
  const iso = ISO_DATE.exec(t);
  if (iso) {
    const upper = t.replace(' ', 't').toUpperCase();
    // Date.parse reads a date-time without an offset as local time: UTC unless the text names an offset (a bare date is UTC already).
    const at = Date.parse(iso[1] === undefined && upper.includes('T') ? `${upper}Z` : upper);
    if (Number.isFinite(at)) return { ok: true, at };
  }
  return fail;
}

/** `since`/`until` arguments: text checked for its form here; against "now" and each other by `resolveRange`. */
export const timePoint = (what: string) =>
  z
    .string()
    .min(1)
    .max(40)
    .superRefine((text, ctx) => {
      const parsed = parseTimePoint(text, Date.now());
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
    })
    .describe(`${what}: ${TIME_POINT_HELP}`);

/** The two range arguments every tool with a range takes, spread into its schema. */
export const rangeArgs = (defaultText: string) => ({
  since: timePoint(`start of the range (default ${defaultText} before until)`).optional(),
  until: timePoint('end of the range (default now)').optional(),
});

export interface TimeRange {
  from: number;
  to: number;
}

/**
 * The range `since`..`until` as epoch ms: until defaults to now (and is
 * never later than now: nothing is stored ahead of it), since to `defaultMs`
 * before until. Throws an Error saying what is wrong when since is not
 * before until or the range is longer than `maxMs`.
 */
export function resolveRange(
  args: { since?: string | undefined; until?: string | undefined },
  now: number,
  o: { defaultMs: number; maxMs: number },
): TimeRange {
  const point = (text: string) => {
    const p = parseTimePoint(text, now);
    if (!p.ok) throw new Error(p.error);
    return p.at;
  };
  const to = Math.min(args.until === undefined ? now : point(args.until), now);
  const from = args.since === undefined ? to - o.defaultMs : point(args.since);
  if (from >= to) throw new Error(`since (${isoTimeShort(from)}) must be before until (${isoTimeShort(to)})`);
  if (to - from > o.maxMs) throw new Error(`the range ${isoTimeShort(from)}..${isoTimeShort(to)} is longer than ${formatDays(o.maxMs)}: ask for a shorter one`);
  return { from, to };
}

/** The range as the tools show it. */
export const showRange = (r: TimeRange) => ({ since: isoTimeShort(r.from), until: isoTimeShort(r.to) });

const startOfDay = (ms: number) => Math.floor(ms / DAY) * DAY;
const formatDays = (ms: number) => (ms % DAY === 0 ? `${ms / DAY}d` : formatDuration(ms));
