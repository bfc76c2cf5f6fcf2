/**
 * Errors are values that know their HTTP answer and whether retrying can help.
 * Retry loops read `retriable` and nothing else; the gateway's one onError
 * handler reads `status` and `code`.
 */
export const ERROR_CODES = [
  'bad_request', // malformed body, wrong content type
  'invalid_records', // schema validation failed for one or more items
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict', // the request no longer fits the state (a proposal already decided, an action a policy still uses)
  'payload_too_large',
  'unsupported_media_type', // a Content-Type or Content-Encoding the endpoint does not read
  'rate_limited',
  'unavailable', // a dependency (Kafka, registry, ClickHouse, Redis) cannot be reached
  'schema_incompatible',
  'invalid_target', // a notification target's URL or settings are refused (scheme, credentials, address)
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_records: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  schema_incompatible: 500,
  invalid_target: 400,
  internal: 500,
};

const RETRIABLE = new Set<ErrorCode>(['rate_limited', 'unavailable']);

export class AutopilotError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly details?: unknown;
  /** Seconds a client should wait before retrying (429/503). */
  readonly retryAfter?: number;

  constructor(code: ErrorCode, message: string, opts: { details?: unknown; cause?: unknown; retryAfter?: number } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AutopilotError';
    this.code = code;
    this.status = STATUS[code];
    this.retriable = RETRIABLE.has(code);
    this.details = opts.details;
    this.retryAfter = opts.retryAfter ?? (this.retriable ? 1 : undefined);
  }
}

export const badRequest = (message: string, details?: unknown) => new AutopilotError('bad_request', message, { details });
export const unavailable = (message: string, cause?: unknown, retryAfter = 1) => new AutopilotError('unavailable', message, { cause, retryAfter });

/** Message of an unknown thrown value, for logs and dead-letter reasons. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
