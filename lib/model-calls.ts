/**
 * Calls to the model (Ollama), as the analyst and the assistant make them:
 * what one call cost, and why one failed, by what retrying could change (they
 * fall back, retry or record the failure by its reason).
 */
export type ModelFailureReason = 'timeout' | 'unreachable' | 'http_error' | 'invalid_answer';

/** One call as a model call: tokens as Ollama counted them (prompt_eval_count, eval_count), 0 when it did not answer. */
export interface ModelCall {
  model: string;
  startedAt: number;
  durationMs: number;
  inputTokens: number;
  outputTokens: number;
  /** null for an answer; the failure's reason otherwise (an answer that fails validation is still a call that was made). */
  error: ModelFailureReason | null;
}

export class ModelFailure extends Error {
  readonly reason: ModelFailureReason;
  readonly retriable: boolean;
  /** Attempts made, this failure's included. */
  readonly attempts: number;
  readonly status?: number;

  constructor(reason: ModelFailureReason, message: string, opts: { retriable?: boolean; attempts?: number; status?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'ModelFailure';
    this.reason = reason;
    this.retriable = opts.retriable ?? false;
    this.attempts = opts.attempts ?? 1;
    this.status = opts.status;
  }
}

/** Errors from the ollama client and from fetch, by what retrying could change. */
export function classifyModelError(err: unknown): ModelFailure {
  const status = (err as { status_code?: unknown }).status_code;
  if (typeof status === 'number') {
    const retriable = status >= 500 || status === 429;
    return new ModelFailure('http_error', `Ollama answered ${status}: ${(err as Error).message}`, { retriable, status, cause: err });
  }
  if (err instanceof SyntaxError) {
    // The HTTP body was not JSON at all: something other than Ollama answered.
    return new ModelFailure('http_error', `the response is not Ollama's: ${err.message}`, { cause: err });
  }
  const code = networkCode(err);
  if (code || (err instanceof TypeError && /fetch failed/i.test(err.message))) {
    return new ModelFailure('unreachable', `Ollama cannot be reached${code ? ` (${code})` : ''}: ${(err as Error).message}`, { retriable: true, cause: err });
  }
  return new ModelFailure('http_error', `asking the model failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** undici puts the socket error in `cause` (sometimes an AggregateError of one per address tried). */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    const inner = (e as { errors?: unknown[] }).errors;
    const found = inner?.map(networkCode).find(Boolean);
    if (found) return found;
  }
  return undefined;
}
