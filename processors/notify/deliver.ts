import { setTimeout as sleepFor } from 'node:timers/promises';
import { backoffDelay } from '../../lib/backoff.ts';
import { AutopilotError, describeError } from '../../lib/errors.ts';
import { guardedRequest, type PostFn } from '../../tenant-config/guarded-http.ts';
import { checkOutgoingUrl, type LookupAll } from '../../tenant-config/url-guard.ts';

export interface DeliverOptions {
  /** Per attempt, reading the answer included. */
  timeoutMs: number;
  /** Attempts after the first; 0 means one attempt. */
  retries: number;
  /** First wait; each later wait doubles, with jitter. */
  backoffMs: number;
  allowLoopback: boolean;
  /** Longest single wait, whether from backoff or from a Retry-After header. Default 30 s. */
  maxWaitMs?: number;
  /** Defaults to a POST over node:http(s) whose DNS lookup goes through the URL guard. */
  fetch?: PostFn;
  sleep?: (ms: number) => Promise<void>;
  lookup?: LookupAll;
  random?: () => number;
}

export interface DeliveryResult {
  outcome: 'delivered' | 'failed';
  attempts: number;
  /** The last HTTP status received, null when no attempt got an answer. */
  status_code: number | null;
  error: string | null;
  /** Wall time of the whole delivery, waits included. */
  duration_ms: number;
}

interface Attempt {
  ok: boolean;
  retriable: boolean;
  status: number | null;
  error: string | null;
  retryAfterMs: number | null;
}

/**
 * POSTs `payload` as JSON to a target and reports what happened; never
 * throws. Retried, with exponential backoff and jitter: 5xx, 408, 429
 * (waiting at least its Retry-After, capped), timeouts, network and DNS
 * errors. Not retried: other 4xx, 3xx (redirects are not followed), and a
 * URL the guard refuses, which is checked again before every attempt
 * because DNS answers change.
 */
export async function deliver(
  target: { url: string; headers?: Record<string, string> | undefined },
  payload: unknown,
  opts: DeliverOptions,
): Promise<DeliveryResult> {
  const started = performance.now();
  const sleep = opts.sleep ?? ((ms: number) => sleepFor(ms));
  const random = opts.random ?? Math.random;
  const maxWaitMs = opts.maxWaitMs ?? 30_000;
  const guard = { allowLoopback: opts.allowLoopback, ...(opts.lookup ? { lookup: opts.lookup } : {}) };
  const post = opts.fetch ?? guardedRequest(guard);
  const finish = (outcome: DeliveryResult['outcome'], attempts: number, last: Attempt | null): DeliveryResult => ({
    outcome,
    attempts,
    status_code: last?.status ?? null,
    error: outcome === 'delivered' ? null : (last?.error ?? 'not attempted'),
    duration_ms: Math.round(performance.now() - started),
  });

  let body: string;
  try {
    body = JSON.stringify(payload);
  } catch (err) {
    return finish('failed', 0, { ok: false, retriable: false, status: null, error: `payload is not JSON: ${describeError(err)}`, retryAfterMs: null });
  }
  const headers = { ...target.headers, 'content-type': 'application/json; charset=utf-8', 'user-agent': 'autopilot-notify' };

  const maxAttempts = Math.max(0, Math.floor(opts.retries)) + 1;
  let last: Attempt | null = null;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    try {
      last = await attemptOnce(target.url, headers, body, post, guard, opts.timeoutMs);
    } catch (err) {
      // attemptOnce handles its own failures; this is the never-throw backstop.
      last = { ok: false, retriable: false, status: null, error: describeError(err), retryAfterMs: null };
    }
    if (last.ok) return finish('delivered', attempt, last);
    if (!last.retriable || attempt === maxAttempts) return finish('failed', attempt, last);
    await sleep(waitBeforeRetry(attempt, opts.backoffMs, last.retryAfterMs, maxWaitMs, random));
  }
  return finish('failed', maxAttempts, last);
}

/**
 * The wait before retry `n` (1 = after the first attempt): backoff·2ⁿ⁻¹ with
 * "equal jitter" (half fixed, half random), so waits keep growing while
 * many notifiers retrying at once still spread out; at least the server's
 * Retry-After; never more than `maxWaitMs`.
 */
export function waitBeforeRetry(n: number, backoffMs: number, retryAfterMs: number | null, maxWaitMs: number, random: () => number = Math.random): number {
  return backoffDelay(n - 1, { initialMs: backoffMs, maxMs: maxWaitMs, jitter: 'equal' }, { atLeastMs: retryAfterMs, random });
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

async function attemptOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  post: PostFn,
  guard: { allowLoopback: boolean; lookup?: LookupAll },
  timeoutMs: number,
): Promise<Attempt> {
  const failed = (retriable: boolean, error: string, status: number | null = null, retryAfterMs: number | null = null): Attempt => ({
    ok: false,
    retriable,
    status,
    error,
    retryAfterMs,
  });
  try {
    await checkOutgoingUrl(url, guard);
  } catch (err) {
    return failed(err instanceof AutopilotError && err.retriable, describeError(err));
  }

  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const res = await post(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    const text = await res.text();
    const status = res.status;
    if (status >= 200 && status < 300) return { ok: true, retriable: false, status, error: null, retryAfterMs: null };
    const error = `HTTP ${status}${text.trim() ? `: ${text.trim().slice(0, 200)}` : ''}`;
    if (status === 429) return failed(true, error, status, parseRetryAfter(res.headers.get('retry-after')));
    if (status >= 500 || status === 408) return failed(true, error, status);
    if (status >= 300 && status < 400) return failed(false, `${error} (redirects are not followed)`, status);
    return failed(false, error, status);
  } catch (err) {
    if (signal.aborted) return failed(true, `timed out after ${timeoutMs} ms`);
    // A refusal from the connection's guarded DNS lookup (rebinding) is final; anything else on the wire is worth another try.
    if (err instanceof AutopilotError) return failed(err.retriable, describeError(err));
    return failed(true, networkError(err));
  }
}

/** "fetch failed" says nothing; its cause (ECONNREFUSED 127.0.0.1:9) says what happened. */
function networkError(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  const code = (err as { code?: string })?.code;
  if (cause) return `${describeError(err)}: ${describeError(cause)}`;
  return code && !describeError(err).includes(code) ? `${code}: ${describeError(err)}` : describeError(err);
}
