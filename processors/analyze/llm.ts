import { Ollama, type ChatResponse } from 'ollama';
import { z } from 'zod';
import { backOff } from '../../lib/backoff.ts';
import { classifyModelError, ModelFailure, type ModelCall, type ModelFailureReason } from '../../lib/model-calls.ts';

import { AnalysisAnswer, ANSWER_JSON_SCHEMA } from './answer.ts';

/**
 * One question to a local model through Ollama, answered as a validated
 * AnalysisAnswer or failed with a reason the caller falls back on.
 *
 * Each attempt has its own deadline. The ollama client only aborts streamed
 * requests (`abort()` on the instance), so the deadline lives in the fetch it
 * is given: a signal that aborts the request and the body read, plus a timer
 * that settles the attempt even if a custom fetch ignores the signal.
 *
 * What is retried, and why: connection failures (a restarting Ollama) and
 * 5xx/429 (model still loading, server busy) fail fast, so a short backoff and
 * another try are cheap and often help. A timeout is not retried: the model
 * was too slow for this prompt, a second try is as slow, and the fallback would
 * wait (retries + 1) × timeout instead of one timeout. An invalid answer is not
 * retried either: at a low temperature the same prompt gives much the same
 * answer, and the rules answer at once.
 */
export interface AskOptions {
  host: string;
  model: string;
  prompt: string;
  /** Deadline of one attempt, request and answer. */
  timeoutMs: number;
  /** Further attempts after the first, for retriable failures only. */
  retries: number;
  fetch?: typeof fetch;
  /** Low by default: an analysis should not change from one run to the next. */
  temperature?: number;
  /** First backoff; doubles per retry. */
  retryDelayMs?: number;
  /** Told of every attempt, answered or failed: each is one model call (the analyst's own agent telemetry). */
  onCall?: (call: ModelCall) => void;
}

export interface ModelAnswer {
  answer: AnalysisAnswer;
  model: string;
  durationMs: number;
  attempts: number;
}

export async function askModel(opts: AskOptions): Promise<ModelAnswer> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    const callStarted = Date.now();
    const callClock = performance.now();
    const tokens = { input: 0, output: 0, model: opts.model };
    const report = (error: ModelFailureReason | null) =>
      opts.onCall?.({
        model: tokens.model,
        startedAt: callStarted,
        durationMs: performance.now() - callClock,
        inputTokens: tokens.input,
        outputTokens: tokens.output,
        error,
      });
    try {
      const { answer, model } = await attemptOnce(opts, tokens);
      report(null);
      return { answer, model, durationMs: Math.round(performance.now() - started), attempts: attempt };
    } catch (err) {
      const failure = err instanceof ModelFailure ? err : classifyModelError(err);
      report(failure.reason);
      if (!failure.retriable || attempt > opts.retries) {
        throw new ModelFailure(failure.reason, failure.message, {
          retriable: failure.retriable,
          attempts: attempt,
          status: failure.status,
          cause: failure.cause,
        });
      }
      await backOff(attempt - 1, { initialMs: opts.retryDelayMs ?? 250, maxMs: Infinity, jitter: 'none' });
    }
  }
}

const TIMED_OUT = Symbol('timed out');

/** One attempt; `tokens` gets the response's counts and model as soon as there is a response, valid or not. */
async function attemptOnce(opts: AskOptions, tokens: { input: number; output: number; model: string }): Promise<{ answer: AnalysisAnswer; model: string }> {
  const controller = new AbortController();
  const baseFetch = opts.fetch ?? fetch;
  const client = new Ollama({
    host: opts.host,
    fetch: ((input: Parameters<typeof fetch>[0], init?: RequestInit) => baseFetch(input, { ...init, signal: controller.signal })) as typeof fetch,
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(TIMED_OUT);
      reject(new ModelFailure('timeout', `model ${opts.model} did not answer within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
  });
  try {
    const response = await Promise.race([
      client.chat({
        model: opts.model,
        messages: [{ role: 'user', content: opts.prompt }],
        format: ANSWER_JSON_SCHEMA,
        stream: false,
        options: { temperature: opts.temperature ?? 0.1 },
      }),
      deadline,
    ]);
    tokens.input = response.prompt_eval_count ?? 0;
    tokens.output = response.eval_count ?? 0;
    tokens.model = response.model || opts.model;
    return { answer: parseAnswer(response), model: tokens.model };
  } catch (err) {
    if (controller.signal.aborted) throw new ModelFailure('timeout', `model ${opts.model} did not answer within ${opts.timeoutMs} ms`, { cause: err });
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The answer text as JSON, validated. Tolerates a ```json fence, which models without `format` support like to add. */
export function parseAnswer(response: Pick<ChatResponse, 'message' | 'done_reason'>): AnalysisAnswer {
  const content = (response.message?.content ?? '').trim();
  if (content === '') {
    const why = response.done_reason === 'length' ? ' (cut off at the token limit)' : '';
    throw new ModelFailure('invalid_answer', `the model answered nothing${why}`);
  }
  const unfenced = content.replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1');
  let json: unknown;
  try {
    json = JSON.parse(unfenced);
  } catch {
    const why = response.done_reason === 'length' ? 'was cut off at the token limit' : 'is not JSON';
    throw new ModelFailure('invalid_answer', `the model's answer ${why}: ${snippet(content)}`);
  }
  const parsed = AnalysisAnswer.safeParse(json);
  if (!parsed.success) {
    throw new ModelFailure('invalid_answer', `the model's answer does not match the schema: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  }
  return parsed.data;
}

const snippet = (s: string) => (s.length > 200 ? `${JSON.stringify(s.slice(0, 200))}…` : JSON.stringify(s));
