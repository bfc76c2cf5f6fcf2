import { z } from 'zod';
import { isoTimeShort } from '../../lib/time.ts';
import { rangeArgs, resolveRange, showRange } from '../time-range.ts';
import { defineTool } from '../tool.ts';
import { cut, freeText, limitArg, ms, refs, round, rowLimit, serviceArg, tenantRows } from './read.ts';

/**
 * Alerts (Alertmanager's, the tenant's alert rules', failing probes') in
 * their latest state as of the range's end, one per fingerprint: those still
 * firing then, and those resolved within the range. Annotations are free
 * text and come back redacted.
 */
const DAY = 24 * 3_600_000;

export const alerts = defineTool({
  name: 'alerts',
  description:
    "Alerts active in a range (default the last 24h), each in its latest state: 'firing' (still firing at the range's end) or 'resolved' (resolved within the range); " +
    'name, service, source, severity, since when, summary. Filter by status and service.',
  args: z.strictObject({
    status: z.enum(['firing', 'resolved', 'any']).default('any'),
    service: serviceArg.optional(),
    ...rangeArgs('24h'),
    limit: limitArg,
  }),
  async run(args, ctx) {
    const range = resolveRange(args, ctx.now, { defaultMs: DAY, maxMs: 30 * DAY });
    const limit = rowLimit(ctx, args.limit);
    const rows = await tenantRows<{
      fingerprint: string;
      alert_name: string;
      service: string;
      source: string;
      status: string;
      severity: string;
      annotations: Record<string, string>;
      starts_at: string;
      ends_at: string | null;
      received: string;
      value: number | null;
    }>(
      ctx,
      'alerts',
      `SELECT fingerprint, alert_name, service, source, status, severity, annotations,
              toUnixTimestamp64Milli(starts_at) AS starts_at, toUnixTimestamp64Milli(ends_at) AS ends_at, toUnixTimestamp64Milli(received_at) AS received, value
         FROM (
           SELECT fingerprint, alert_name, service, source, status, severity, annotations, starts_at, ends_at, received_at, value
             FROM alerts FINAL
            WHERE tenant = {tenant:String} ${args.service === undefined ? '' : 'AND service = {service:String}'}
              AND received_at <= fromUnixTimestamp64Milli({to:Int64})
            ORDER BY received_at DESC
            LIMIT 1 BY fingerprint
         )
        WHERE (status = 'firing' OR received >= {from:Int64}) ${args.status === 'any' ? '' : 'AND status = {status:String}'}
        ORDER BY starts_at DESC, fingerprint LIMIT {limit:UInt32}`,
      { service: args.service, status: args.status, from: range.from, to: range.to, limit: limit + 1 },
    );
    const { items, truncated } = cut(rows, limit);
    const list = items.map((a) => ({
      fingerprint: a.fingerprint,
      ref: refs.alert(a.fingerprint),
      name: a.alert_name,
      service: a.service,
      source: a.source,
      status: a.status,
      severity: a.severity,
      since: isoTimeShort(ms(a.starts_at)!),
      resolved_at: a.status === 'resolved' && a.ends_at !== null ? isoTimeShort(ms(a.ends_at)!) : null,
      summary: freeText(a.annotations.summary ?? a.annotations.description ?? a.annotations.message ?? '', 300),
      value: a.value === null ? null : round(a.value),
    }));
    return {
      data: { ...showRange(range), alerts: list },
      rows: list.length,
      truncated,
      evidence: list.map((a) => ({
        ref: a.ref,
        label: `alert ${a.name} on ${a.service || 'no service'} [${a.severity}] ${a.status} since ${a.since}${a.summary ? `: ${a.summary}` : ''}`,
      })),
    };
  },
});
