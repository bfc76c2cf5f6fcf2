import { z } from 'zod';
import { AutopilotError, describeError, unavailable } from '../../lib/errors.ts';
import { redact } from '../../lib/redact.ts';
import type { ToolContext } from '../tool.ts';

/**
 * What every ClickHouse tool shares: one way to run a query for the caller's
 * tenant, the row limit, the argument pieces and the evidence refs.
 */

/**
 * Rows of a parameterised SELECT for `ctx.tenant`. The statement must filter
 * on `tenant = {tenant:String}` (checked: a query that forgot it would read
 * every tenant's rows), and the tenant parameter is always the context's,
 * whatever `params` holds. Parameters left undefined (unset filters) are
 * dropped, as sql/rows.ts does. A failure is an Error that says what could
 * not be read; the message's deadline (`ctx.signal`) cancels the query.
 */
export async function tenantRows<T>(ctx: ToolContext, what: string, query: string, params: Record<string, unknown> = {}): Promise<T[]> {
  if (!query.includes('tenant = {tenant:String}')) throw new Error(`internal: the query for ${what} does not filter on the tenant`);
  const defined = Object.fromEntries(Object.entries({ ...params, tenant: ctx.tenant }).filter(([, v]) => v !== undefined));
  if (ctx.signal.aborted) throw new Error(`the time for this question ran out before ${what} could be read`);
  try {
    const result = await ctx.ch.query({ query, query_params: defined, format: 'JSONEachRow', abort_signal: ctx.signal });
    return await result.json<T>();
  } catch (err) {
    if (ctx.signal.aborted) throw new Error(`the time for this question ran out while reading ${what}`);
    throw unavailable(`could not read ${what} from ClickHouse: ${describeError(err)}`, err);
  }
}

/** Rows one call returns: the model's `limit` when smaller than the message's `maxRows`. */
export const rowLimit = (ctx: ToolContext, limit?: number) => Math.max(1, Math.min(limit ?? ctx.maxRows, ctx.maxRows));

/** The first `limit` of rows fetched with LIMIT limit + 1, and whether there were more. */
export function cut<T>(rows: T[], limit: number): { items: T[]; truncated: boolean } {
  return { items: rows.slice(0, limit), truncated: rows.length > limit };
}

/** A tool's refusal of its arguments that zod could not see (a range against now, an unknown id). */
export const badArgs = (message: string) => new AutopilotError('bad_request', message);

// Argument pieces: strings bounded, names as Autopilot stores them.
export const serviceArg = z.string().min(1).max(128).describe('service name, as list_services gives it');
export const metricArg = z.string().min(1).max(200).describe('metric name, as list_metrics gives it');
export const limitArg = z.number().int().min(1).max(10_000).optional().describe('at most this many rows (the message has its own cap too)');

/**
 * Evidence refs, `<kind>:<id>`, in the formats tool.ts lists: findings cite
 * them, so each kind is spelled in this one place. Every tool also puts the
 * ref of each item into its data, so a finding can cite what it read.
 */
export const refs = {
  series: (service: string, metric: string) => `series:${service}:${metric}`,
  incident: (id: string) => `incident:${id}`,
  deployment: (service: string, version: string) => `deployment:${service}:${version}`,
  anomaly: (id: string) => `anomaly:${id}`,
  alert: (fingerprint: string) => `alert:${fingerprint}`,
  logs: (service: string, level: string) => `logs:${service}:${level}`,
  status: (provider: string, subject: string) => `status:${provider}:${subject}`,
  commit: (sha: string) => `commit:${sha}`,
  pull: (n: number) => `pull:${n}`,
};

/** Free text for the model: secrets out, on one line, at most `max` characters. */
export function freeText(text: string, max = 500): string {
  const line = redact(text).replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** A map's values as free text (labels carry addresses, metadata carries anything). */
export const freeMap = (m: Record<string, string>, max = 200): Record<string, string> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, freeText(v, max)]));

/** Four significant digits: figures the model reads, without float noise. */
export const round = (n: number): number => (Number.isFinite(n) ? Number(n.toPrecision(4)) : n);

/** Epoch ms from ClickHouse JSON (64-bit integers arrive as strings). */
export const ms = (v: string | number | null): number | null => (v === null ? null : Number(v));
