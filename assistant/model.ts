import { performance } from 'node:perf_hooks';
import { type ChatResponse, type Message, Ollama, type Tool as OllamaTool } from 'ollama';
import { classifyModelError, ModelFailure, type ModelCall } from '../lib/model-calls.ts';

/**
 * One chat call to Ollama, non-streamed, bounded by `signal` (the message's
 * deadline). A failure is a ModelFailure with its reason; every call, answered
 * or not, is reported to `onCall`.
 */
export async function chat(o: {
  host: string;
  model: string;
  messages: Message[];
  tools?: OllamaTool[];
  format?: object;
  signal: AbortSignal;
  onCall?: (call: ModelCall) => void;
}): Promise<ChatResponse> {
  const startedAt = Date.now();
  const clock = performance.now();
  const client = new Ollama({
    host: o.host,
    fetch: ((input: Parameters<typeof fetch>[0], init?: RequestInit) => fetch(input, { ...init, signal: o.signal })) as typeof fetch,
  });
  const report = (error: ModelFailure['reason'] | null, r?: ChatResponse) =>
    o.onCall?.({
      model: r?.model || o.model,
      startedAt,
      durationMs: performance.now() - clock,
      inputTokens: r?.prompt_eval_count ?? 0,
      outputTokens: r?.eval_count ?? 0,
      error,
    });
  try {
    const response = await client.chat({
      model: o.model,
      messages: o.messages,
      ...(o.tools ? { tools: o.tools } : {}),
      ...(o.format ? { format: o.format } : {}),
      stream: false,
      options: { temperature: 0 },
    });
    report(null, response);
    return response;
  } catch (err) {
    const failure = o.signal.aborted
      ? new ModelFailure('timeout', `model ${o.model} did not answer in the time this question had`, { cause: err })
      : classifyModelError(err);
    report(failure.reason);
    throw failure;
  }
}
