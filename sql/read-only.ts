import type { ClickHouseClient } from '@clickhouse/client';
import { badRequest } from '../lib/errors.ts';
import { readOnlyClickHouse } from './client.ts';

export interface QueryResult {
  meta: { name: string; type: string }[];
  data: Record<string, unknown>[];
}

/** Statement kinds that only read. A canonical statement may open with brackets: `(SELECT 1) EXCEPT (SELECT 2)`. */
const READING = /^[\s(]*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXISTS|EXPLAIN)\b/i;

/**
 * Table functions that only make rows up or read what the query itself holds.
 * Every other table function the engine lists is refused, so one that a later
 * ClickHouse adds (another lake, another remote protocol) is refused too.
 */
const HARMLESS_TABLE_FUNCTIONS = new Set(
  ['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generate_series', 'generateSeries', 'primes', 'generateRandom', 'values', 'null', 'view', 'format'].map((n) =>
    n.toLowerCase(),
  ),
);

/** Ordinary functions that read or write outside the database: files, models, Keeper. `readonly=1` stops none of them. */
const OUTSIDE_FUNCTIONS = new Set(['file', 'catboostEvaluate', 'generateSerialID'].map((n) => n.toLowerCase()));

/** A name followed by `(`: a function or table function call, its name bare or quoted. */
const CALL = /(`(?:[^`\\]|\\.)*`|"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)\s*\(/g;

export interface Refusal {
  refused: string;
  message: string;
}

/**
 * What in a statement reaches beyond reading the database, or undefined.
 * `shape` is the statement as ClickHouse's `normalizeQuery` prints it, with
 * every literal replaced by `?`: a string can neither hide a clause nor fake
 * one. `tableFunctions` is the engine's own list, lower-cased.
 */
export function refusalOf(shape: string, tableFunctions: ReadonlySet<string>): Refusal | undefined {
  if (!READING.test(shape)) {
    return {
      refused: shape.trim().split(/\s+/)[0] ?? '',
      message: `readonly: only SELECT, WITH, SHOW, DESCRIBE, EXISTS and EXPLAIN run here, not: ${shape.slice(0, 80)}`,
    };
  }
  // The server's HTTP interface refuses INTO OUTFILE itself; the embedded engine writes the file.
  if (/\bINTO\s+OUTFILE\b/i.test(shape)) return { refused: 'INTO OUTFILE', message: 'readonly: INTO OUTFILE writes a file on the host and is refused here' };
  for (const [, quotedOrBare] of shape.matchAll(CALL)) {
    const name = quotedOrBare!.replace(/^[`"]|[`"]$/g, '');
    const lower = name.toLowerCase();
    if (OUTSIDE_FUNCTIONS.has(lower) || (tableFunctions.has(lower) && !HARMLESS_TABLE_FUNCTIONS.has(lower))) {
      return {
        refused: `${name}()`,
        message: `readonly: ${name}() reaches outside the database (files, network, other servers or programs) and is refused here; table functions allowed: ${[...HARMLESS_TABLE_FUNCTIONS].join(', ')}`,
      };
    }
  }
  return undefined;
}

/**
 * Runs one read-only statement, in three layers:
 * 1. ClickHouse's own parser, given the text as a query parameter and never
 *    executing it, proves it is one statement and prints it canonically
 *    (`formatQuerySingleLine`) and without literals (`normalizeQuery`).
 * 2. `refusalOf` refuses writing kinds, INTO OUTFILE, and functions that reach
 *    outside (files, URLs, object stores, other servers, programs).
 * 3. The canonical text, exactly what was checked, runs on the read-only twin
 *    connection (`readonly=1`), where ClickHouse refuses writes, DDL, SET,
 *    SYSTEM, setting overrides and outside table functions on its own.
 */
export async function runReadOnly(ch: ClickHouseClient, query: string): Promise<QueryResult> {
  const reader = await readOnlyClickHouse(ch);
  let parsed: { canonical: string; shape: string; table_functions: string[] };
  try {
    const result = await reader.query({
      query: `SELECT formatQuerySingleLine({q:String}) AS canonical, normalizeQuery(canonical) AS shape,
                (SELECT groupArray(lower(name)) FROM system.table_functions) AS table_functions`,
      query_params: { q: query },
      format: 'JSONEachRow',
    });
    parsed = (await result.json<typeof parsed>())[0]!;
  } catch (err) {
    throw badRequest(`not a valid single statement: ${(err as Error).message}`);
  }
  const refusal = refusalOf(parsed.shape, new Set(parsed.table_functions));
  if (refusal) throw badRequest(refusal.message, { refused: refusal.refused });
  try {
    const result = await reader.query({ query: parsed.canonical, format: 'JSON' });
    const json = await result.json<Record<string, unknown>>();
    return { meta: json.meta ?? [], data: json.data };
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type) throw badRequest(`ClickHouse refused the query (${type}): ${(err as Error).message}`);
    throw err;
  }
}
