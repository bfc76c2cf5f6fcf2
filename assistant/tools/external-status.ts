import { z } from 'zod';
import { isoTimeShort } from '../../lib/time.ts';
import { rangeArgs, resolveRange, showRange } from '../time-range.ts';
import { defineTool } from '../tool.ts';
import { cut, freeText, limitArg, refs, rowLimit, serviceArg, tenantRows } from './read.ts';

/**
 * Third-party status (the status_page jobs' changes): each subject's latest
 * state as of the range's end. Degraded ones always; with
 * `include_recovered`, also those that changed within the range and are
 * fine again. Cited as `status:<provider>:<subject>`.
 */
const DAY = 24 * 3_600_000;

export const externalStatus = defineTool({
  name: 'external_status',
  description:
    "Third-party providers' status pages (Stripe, AWS, …): subjects (components, incidents, maintenances) degraded at the range's end, with impact, message and the services that depend on them. " +
    'With include_recovered, also those that recovered within the range (default the last 24h). Filter by provider or dependent service.',
  args: z.strictObject({
    provider: z.string().min(1).max(100).optional(),
    service: serviceArg.optional().describe('only subjects this service depends on'),
    include_recovered: z.boolean().default(false),
    ...rangeArgs('24h'),
    limit: limitArg,
  }),
  async run(args, ctx) {
    const range = resolveRange(args, ctx.now, { defaultMs: DAY, maxMs: 30 * DAY });
    const limit = rowLimit(ctx, args.limit);
    const rows = await tenantRows<{
      provider: string;
      subject_kind: string;
      subject: string;
      status: string;
      previous: string | null;
      degraded: boolean | number;
      impact: string;
      message: string;
      url: string;
      changed_at: string;
      services: string[];
    }>(
      ctx,
      'third-party status',
      `SELECT provider, subject_kind, argMax(subject_name, at) AS subject, argMax(to_status, at) AS status, argMax(tuple(from_status), at).1 AS previous,
              argMax(degraded, at) AS degraded, argMax(impact, at) AS impact, argMax(message, at) AS message, argMax(url, at) AS url,
              toUnixTimestamp64Milli(max(at)) AS changed_at, arraySort(groupUniqArrayIf(service, service != '')) AS services
         FROM external_status_changes FINAL
        WHERE tenant = {tenant:String}
          ${args.provider === undefined ? '' : 'AND provider = {provider:String}'}
          ${args.service === undefined ? '' : 'AND service = {service:String}'}
          AND at <= fromUnixTimestamp64Milli({to:Int64})
        GROUP BY provider, subject_kind, subject_id
       HAVING degraded ${args.include_recovered ? 'OR changed_at >= {from:Int64}' : ''}
        ORDER BY degraded DESC, changed_at DESC, provider, subject LIMIT {limit:UInt32}`,
      { provider: args.provider, service: args.service, from: range.from, to: range.to, limit: limit + 1 },
    );
    const { items, truncated } = cut(rows, limit);
    const list = items.map((s) => ({
      provider: s.provider,
      kind: s.subject_kind,
      subject: s.subject,
      ref: refs.status(s.provider, s.subject),
      status: s.status,
      previous: s.previous,
      degraded: Boolean(s.degraded),
      impact: s.impact,
      since: isoTimeShort(Number(s.changed_at)),
      message: freeText(s.message, 300),
      url: s.url,
      services: s.services,
    }));
    return {
      data: { ...showRange(range), subjects: list },
      rows: list.length,
      truncated,
      evidence: list.map((s) => ({
        ref: s.ref,
        label: `${s.provider} ${s.kind} ${s.subject}: ${s.status} (impact ${s.impact}) since ${s.since}${s.degraded ? '' : ', recovered'}`,
      })),
    };
  },
});
