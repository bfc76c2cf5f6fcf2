import { z } from 'zod';
import { defineTool, type ToolContext } from '../tool.ts';
import { cut, limitArg, rowLimit, tenantRows } from './read.ts';

/**
 * The tenant's services: every service that sent metrics, logs or
 * deployments, or had anomalies or incidents, in the last 30 days. The model
 * lists them (`list_services`); the rules match a question's words against
 * them (`knownServices`) instead of guessing a name from grammar.
 */
const LOOKBACK_MS = 30 * 24 * 3_600_000;
const MAX_SERVICES = 10_000;

const SOURCES = [
  ['metrics', 'metric_rollups', 'window_start'],
  ['logs', 'log_entries', 'timestamp'],
  ['deployments', 'deployments', 'timestamp'],
  ['anomalies', 'anomalies', 'detected_at'],
  ['incidents', 'incidents', 'opened_at'],
] as const;

const SERVICES_SQL = `SELECT service, arraySort(groupUniqArray(source)) AS sources FROM (
  ${SOURCES.map(
    ([source, table, column]) =>
      `SELECT DISTINCT service, '${source}' AS source FROM ${table} WHERE tenant = {tenant:String} AND ${column} >= fromUnixTimestamp64Milli({since:Int64})`,
  ).join('\n  UNION ALL ')}
) WHERE service != '' GROUP BY service ORDER BY service LIMIT {limit:UInt32}`;

const servicesOf = (ctx: ToolContext, limit: number) =>
  tenantRows<{ service: string; sources: string[] }>(ctx, 'the services', SERVICES_SQL, { since: ctx.now - LOOKBACK_MS, limit });

/** The tenant's service names, sorted. */
export async function knownServices(ctx: ToolContext): Promise<string[]> {
  return (await servicesOf(ctx, MAX_SERVICES)).map((r) => r.service);
}

export const listServices = defineTool({
  name: 'list_services',
  description:
    'The services Autopilot knows for this tenant (seen in the last 30 days), each with what it sent: metrics, logs, deployments, anomalies, incidents.',
  args: z.strictObject({ limit: limitArg }),
  async run(args, ctx) {
    const limit = rowLimit(ctx, args.limit);
    const { items, truncated } = cut(await servicesOf(ctx, limit + 1), limit);
    return { data: { services: items }, rows: items.length, truncated, evidence: [] };
  },
});
