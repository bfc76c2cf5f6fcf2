import type { ClickHouseClient } from '@clickhouse/client';
import { badRequest } from '../lib/errors.ts';

export interface QueryResult {
  meta: { name: string; type: string }[];
  data: Record<string, unknown>[];
}

const READ_ONLY = /^(SELECT|WITH|SHOW|DESCRIBE|DESC|EXISTS|EXPLAIN)\b/i;

/**
 * Runs one read-only statement. ClickHouse's own parser (formatQuery, given the
 * text as a parameter, never executed) proves it is a single statement and
 * names its kind; only reading kinds run. On a server the `readonly=1` setting
 * is added as a second guard. Not on the embedded engine: chdb turns per-query
 * settings into session-wide SETs, and `readonly` would then refuse the sink's
 * own inserts.
 */
export async function runReadOnly(ch: ClickHouseClient, query: string, opts: { server: boolean }): Promise<QueryResult> {
  let statement: string;
  try {
    const parsed = await ch.query({ query: 'SELECT formatQuerySingleLine({q:String}) AS q', query_params: { q: query }, format: 'JSONEachRow' });
    statement = (await parsed.json<{ q: string }>())[0]!.q;
  } catch (err) {
    throw badRequest(`not a valid single statement: ${(err as Error).message}`);
  }
  if (!READ_ONLY.test(statement)) throw badRequest(`readonly: only SELECT, SHOW, DESCRIBE, EXISTS and EXPLAIN run here, not: ${statement.slice(0, 80)}`);
  try {
    const result = await ch.query({ query: statement, format: 'JSON', clickhouse_settings: opts.server ? { readonly: '1' } : undefined });
    const json = await result.json<Record<string, unknown>>();
    return { meta: json.meta ?? [], data: json.data };
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type) throw badRequest(`ClickHouse refused the query (${type}): ${(err as Error).message}`);
    throw err;
  }
}
