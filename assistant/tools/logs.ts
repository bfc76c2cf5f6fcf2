import { z } from 'zod';
import { isoTimeShort } from '../../lib/time.ts';
import { rangeArgs, resolveRange, showRange } from '../time-range.ts';
import { defineTool } from '../tool.ts';
import { cut, freeMap, freeText, limitArg, refs, rowLimit, serviceArg, tenantRows } from './read.ts';

/**
 * Log lines, newest first, by service, level and text. The text is matched
 * case-insensitively as a plain substring (never a pattern the model
 * writes), and every message and label comes back redacted.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Levels as the gateway stores them, least severe first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

export const logs = defineTool({
  name: 'logs',
  description:
    "Log lines in a range (default the last hour), newest first, messages redacted. Filter by service, by level ('error' means error and fatal: this level and above), " +
    'and by text the message contains (case-insensitive, plain text).',
  args: z.strictObject({
    service: serviceArg.optional(),
    level: z.enum(LOG_LEVELS).optional().describe('this level and the more severe ones'),
    contains: z.string().min(1).max(200).optional().describe('text the message contains, case-insensitive'),
    ...rangeArgs('1h'),
    limit: limitArg,
  }),
  async run(args, ctx) {
    const range = resolveRange(args, ctx.now, { defaultMs: HOUR, maxMs: 7 * DAY });
    const limit = rowLimit(ctx, args.limit);
    const levels = args.level === undefined ? undefined : LOG_LEVELS.slice(LOG_LEVELS.indexOf(args.level));
    const rows = await tenantRows<{ service: string; level: string; at: string; message: string; labels: Record<string, string> }>(
      ctx,
      'log lines',
      `SELECT service, level, toUnixTimestamp64Milli(timestamp) AS at, message, labels
         FROM log_entries FINAL
        WHERE tenant = {tenant:String}
          ${args.service === undefined ? '' : 'AND service = {service:String}'}
          ${levels === undefined ? '' : 'AND level IN {levels:Array(String)}'}
          ${args.contains === undefined ? '' : 'AND positionCaseInsensitiveUTF8(message, {contains:String}) > 0'}
          AND timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND timestamp < fromUnixTimestamp64Milli({to:Int64})
        ORDER BY log_entries.timestamp DESC LIMIT {limit:UInt32}`,
      { service: args.service, levels, contains: args.contains, from: range.from, to: range.to, limit: limit + 1 },
    );
    const { items, truncated } = cut(rows, limit);
    const lines = items.map((l) => ({
      service: l.service,
      level: l.level,
      at: isoTimeShort(Number(l.at)),
      message: freeText(l.message, 1000),
      labels: freeMap(l.labels),
      ref: refs.logs(l.service, l.level),
    }));
    // One ref per service and level, counting the lines it stands for.
    const groups = new Map<string, { service: string; level: string; count: number }>();
    for (const l of lines) {
      const g = groups.get(l.ref) ?? { service: l.service, level: l.level, count: 0 };
      g.count++;
      groups.set(l.ref, g);
    }
    const matching = args.contains === undefined ? '' : ` containing '${args.contains}'`;
    return {
      data: { ...showRange(range), lines },
      rows: lines.length,
      truncated,
      evidence: [...groups].map(([ref, g]) => ({
        ref,
        label: `${truncated ? 'at least ' : ''}${g.count} ${g.level} lines of ${g.service}${matching} in ${isoTimeShort(range.from)}..${isoTimeShort(range.to)}`,
      })),
    };
  },
});
