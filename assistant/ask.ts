import { performance } from 'node:perf_hooks';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Message } from 'ollama';
import { ModelFailure, type ModelCall } from '../lib/model-calls.ts';
import { assistantAnswer, ANSWER_JSON_SCHEMA, type AssistantAnswer } from './answer.ts';
import type { AssistantConfig } from './config.ts';
import { chat } from './model.ts';
import { FINAL_ANSWER_REQUEST, messagesFor, toolSpecs, type Turn } from './prompt.ts';
import { answerWithoutModel } from './without-model.ts';
import { toolRunner, type ToolRunner } from './runner.ts';
import type { Evidence, GitHubAccess, Tool } from './tool.ts';
import type { TraceStep } from './trace.ts';

export interface AskDeps {
  ch: ClickHouseClient;
  config: AssistantConfig;
  /** The tools offered (github_activity only when GitHub is configured). */
  tools: readonly Tool[];
  github?: GitHubAccess;
  /** Every model call, for the assistant's own agent telemetry. */
  onModelCall?: (tenant: string, call: ModelCall) => void;
}

export interface AskInput {
  tenant: string;
  question: string;
  history: readonly Turn[];
  /** Each step as it happens, for a streamed answer. */
  onStep?: (step: TraceStep) => void;
}

/** A finding as the API shows it: the refs it cites resolved to what the tools returned; refs no tool returned set apart. */
export interface PresentedFinding {
  statement: string;
  evidence: Evidence[];
  unsupported: string[];
}

export interface AssistantReply {
  answer: Omit<AssistantAnswer, 'findings'> & { findings: PresentedFinding[] };
  /** llm: the model's answer; rules: the model could not answer and the rules recognised the question; needs_model: neither. */
  source: 'llm' | 'rules' | 'needs_model';
  model: string | null;
  /** Why the model did not answer (timeout, unreachable, http_error, invalid_answer), or null. */
  fallback_reason: string | null;
  trace: TraceStep[];
  tool_calls: number;
  input_tokens: number;
  output_tokens: number;
  duration_ms: number;
}

/**
 * Answers one question: the model plans and calls tools (within the
 * message's budgets) until it answers with the structured answer; if the
 * model cannot answer (down, too slow, nonsense), the rules answer the
 * questions they recognise, saying so, and the rest get a plain "needs the
 * model". The answer's findings keep only evidence some tool returned.
 */
export async function ask(input: AskInput, deps: AskDeps): Promise<AssistantReply> {
  const started = performance.now();
  const now = Date.now();
  const { config } = deps;
  const signal = AbortSignal.timeout(config.timeoutMs);
  const { tools } = deps;
  const runner = toolRunner(tools, { tenant: input.tenant, ch: deps.ch, now, maxRows: config.maxRows, signal, github: deps.github }, config, input.onStep);
  const usage = { input: 0, output: 0, model: null as string | null };
  const onCall = (call: ModelCall) => {
    usage.input += call.inputTokens;
    usage.output += call.outputTokens;
    usage.model = call.model;
    runner.note({
      kind: 'model',
      at: call.startedAt,
      duration_ms: Math.round(call.durationMs),
      input_tokens: call.inputTokens,
      output_tokens: call.outputTokens,
      error: call.error,
    });
    deps.onModelCall?.(input.tenant, call);
  };

  const reply = (answer: AssistantAnswer, source: AssistantReply['source'], fallback: string | null, rules?: ToolRunner): AssistantReply => ({
    answer: present(answer, (rules ?? runner).evidence),
    source,
    model: source === 'llm' ? usage.model : null,
    fallback_reason: fallback,
    trace: [...runner.trace, ...(rules?.trace ?? [])],
    tool_calls: runner.calls + (rules?.calls ?? 0),
    input_tokens: usage.input,
    output_tokens: usage.output,
    duration_ms: Math.round(performance.now() - started),
  });

  try {
    return reply(await plan(input, deps, tools, runner, signal, onCall), 'llm', null);
  } catch (err) {
    if (!(err instanceof ModelFailure)) throw err;
    // The rules get time of their own: the model may have spent the message's.
    const ctx = { tenant: input.tenant, ch: deps.ch, now, maxRows: config.maxRows, signal: AbortSignal.timeout(config.timeoutMs) };
    const rules = toolRunner(tools, ctx, config, input.onStep);
    const fallback = await answerWithoutModel(input.question, ctx, rules, err);
    return reply(fallback.answer, fallback.recognised ? 'rules' : 'needs_model', err.reason, rules);
  }
}

/** The model's loop: tool calls until it answers; a final call with the answer's schema as `format` if its last words are not that answer. */
async function plan(
  input: AskInput,
  deps: AskDeps,
  tools: readonly Tool[],
  runner: ToolRunner,
  signal: AbortSignal,
  onCall: (call: ModelCall) => void,
): Promise<AssistantAnswer> {
  const { config } = deps;
  const messages: Message[] = messagesFor(input.question, input.history, Date.now());
  const specs = toolSpecs(tools);
  // Each round either calls tools or answers; a model that keeps calling past the budget is told so by the runner.
  for (let round = 0; round <= config.maxToolCalls; round++) {
    const response = await chat({ host: config.ollamaHost, model: config.model, messages, tools: specs, signal, onCall });
    const calls = response.message.tool_calls ?? [];
    if (calls.length === 0) {
      const answer = parseAnswer(response.message.content);
      if (answer) return answer;
      break;
    }
    messages.push(response.message);
    for (const call of calls) {
      const result = await runner.run(call.function.name, call.function.arguments);
      const content = result.ok ? { result: result.data, evidence: result.evidence } : { error: result.error };
      messages.push({ role: 'tool', tool_name: call.function.name, content: JSON.stringify(content) });
    }
  }
  messages.push({ role: 'user', content: FINAL_ANSWER_REQUEST });
  const final = await chat({ host: config.ollamaHost, model: config.model, messages, format: ANSWER_JSON_SCHEMA, signal, onCall });
  const answer = parseAnswer(final.message.content);
  if (!answer) throw new ModelFailure('invalid_answer', `the model's answer is not the answer's JSON: ${JSON.stringify(final.message.content.slice(0, 200))}`);
  return answer;
}

/** The answer in a model's text, or null: JSON (a ```json fence tolerated) of the answer's schema. */
function parseAnswer(content: string): AssistantAnswer | null {
  const text = content.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1');
  if (!text.startsWith('{')) return null;
  try {
    const parsed = assistantAnswer.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function present(answer: AssistantAnswer, evidence: Map<string, Evidence>): AssistantReply['answer'] {
  return {
    ...answer,
    findings: answer.findings.map((f) => ({
      statement: f.statement,
      evidence: f.evidence.flatMap((ref) => evidence.get(ref) ?? []),
      unsupported: f.evidence.filter((ref) => !evidence.has(ref)),
    })),
  };
}
