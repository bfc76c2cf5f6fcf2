/**
 * What a ClickHouse error means for the rows that caused it, by its error
 * type. The sink reads only this:
 * - bad_data: these rows will never go in; isolate them and dead-letter them.
 * - transient: the server is down, busy or short of memory, or the schema is
 *   not migrated yet; the rows are fine, so wait and retry, however long.
 * - unknown: anything else; retried a bounded number of times, then the rows
 *   that still fail are dead-lettered, so no error type loops forever.
 */
export type ClickHouseFailure = 'bad_data' | 'transient' | 'unknown';

const BAD_DATA = new Set([
  'CANNOT_PARSE_TEXT',
  'CANNOT_PARSE_QUOTED_STRING',
  'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
  'CANNOT_PARSE_NUMBER',
  'CANNOT_PARSE_DATE',
  'CANNOT_PARSE_DATETIME',
  'CANNOT_PARSE_UUID',
  'CANNOT_PARSE_BOOL',
  'CANNOT_CONVERT_TYPE',
  'TYPE_MISMATCH',
  'INCORRECT_DATA',
  'ARGUMENT_OUT_OF_BOUND',
  'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  'DECIMAL_OVERFLOW',
  'TOO_LARGE_STRING_SIZE',
  'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN',
  'INCORRECT_NUMBER_OF_COLUMNS',
  'VIOLATED_CONSTRAINT', // a table's CHECK refuses the row: it never will go in
]);

/**
 * TOO_MANY_PARTS covers both "too many parts in a partition" (merges behind:
 * wait) and "too many partitions for one insert"; the sink splits inserts by
 * partition, so only the first can reach here.
 */
const TRANSIENT = new Set([
  'TOO_MANY_PARTS',
  'TOO_MANY_SIMULTANEOUS_QUERIES',
  'MEMORY_LIMIT_EXCEEDED',
  'TIMEOUT_EXCEEDED',
  'SOCKET_TIMEOUT',
  'NETWORK_ERROR',
  'ALL_CONNECTION_TRIES_FAILED',
  'TABLE_IS_READ_ONLY',
  'READONLY',
  'UNKNOWN_TABLE',
  'KEEPER_EXCEPTION',
  'ABORTED',
  'QUERY_WAS_CANCELLED',
  'NOT_ENOUGH_SPACE',
  'CANNOT_ALLOCATE_MEMORY',
]);

/** Node's socket errors: the server is not there (yet). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

export function classifyClickHouseError(err: unknown): ClickHouseFailure {
  const e = err as { type?: unknown; code?: unknown } | null;
  if (typeof e?.type === 'string') {
    if (BAD_DATA.has(e.type)) return 'bad_data';
    if (TRANSIENT.has(e.type)) return 'transient';
  }
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) return 'transient';
  if (err instanceof Error && /timeout|socket hang up/i.test(err.message) && typeof e?.type !== 'string') return 'transient';
  return 'unknown';
}
