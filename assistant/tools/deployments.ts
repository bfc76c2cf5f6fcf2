import { z } from 'zod';
import { isoTimeShort } from '../../lib/time.ts';
import { rangeArgs, resolveRange, showRange } from '../time-range.ts';
import { defineTool } from '../tool.ts';
import { cut, freeMap, limitArg, refs, rowLimit, serviceArg, tenantRows } from './read.ts';

/** Deployment events, newest first; each cited as `deployment:<service>:<version>`. */
const DAY = 24 * 3_600_000;

export const deployments = defineTool({
  name: 'deployments',
  description:
    'Deployments in a range (default the last 24h), newest first: service, version, status, when, and their metadata (commit, author, …). Filter by service.',
  args: z.strictObject({ service: serviceArg.optional(), ...rangeArgs('24h'), limit: limitArg }),
  async run(args, ctx) {
    const range = resolveRange(args, ctx.now, { defaultMs: DAY, maxMs: 30 * DAY });
    const limit = rowLimit(ctx, args.limit);
    const rows = await tenantRows<{ service: string; version: string; status: string; at: string; metadata: Record<string, string> }>(
      ctx,
      'deployments',
      `SELECT service, version, status, toUnixTimestamp64Milli(timestamp) AS at, metadata
         FROM deployments FINAL
        WHERE tenant = {tenant:String}
          ${args.service === undefined ? '' : 'AND service = {service:String}'}
          AND timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND timestamp < fromUnixTimestamp64Milli({to:Int64})
        ORDER BY deployments.timestamp DESC, service, version LIMIT {limit:UInt32}`,
      { service: args.service, from: range.from, to: range.to, limit: limit + 1 },
    );
    const { items, truncated } = cut(rows, limit);
    const list = items.map((d) => ({
      service: d.service,
      version: d.version,
      ref: refs.deployment(d.service, d.version),
      status: d.status,
      at: isoTimeShort(Number(d.at)),
      metadata: freeMap(d.metadata),
    }));
    // A version's several events (started, succeeded) are one piece of evidence: its latest, listed first.
    const evidence = new Map<string, string>();
    for (const d of list) if (!evidence.has(d.ref)) evidence.set(d.ref, `${d.service} ${d.version} deployed at ${d.at} (${d.status})`);
    return {
      data: { ...showRange(range), deployments: list },
      rows: list.length,
      truncated,
      evidence: [...evidence].map(([ref, label]) => ({ ref, label })),
    };
  },
});
