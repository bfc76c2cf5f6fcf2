import type { AgentEvent, Span } from '../../../schemas/topics.ts';

/**
 * Spans that follow the OpenTelemetry GenAI semantic conventions (a span with
 * `gen_ai.operation.name`) as agent events (autopilot.agent-events), one per
 * span, beside the span itself. The spans are the ones traces.ts made, so
 * only valid spans inside the accepted window become events, and attribute
 * values are already text. Current names first, then the older spellings
 * instrumentations still send:
 *
 * | AgentEvent          | span                                                                                   |
 * |---------------------|----------------------------------------------------------------------------------------|
 * | event_id            | `<trace_id>:<span_id>`: a re-exported span is the same event                           |
 * | agent               | gen_ai.agent.name, else the resource's service.name                                    |
 * | model               | gen_ai.response.model, else gen_ai.request.model, else ''                              |
 * | provider            | gen_ai.provider.name, else gen_ai.system (before semconv 1.37), else ''                |
 * | operation           | gen_ai.operation.name (chat, text_completion, embeddings, invoke_agent, execute_tool…) |
 * | started_at          | the span's start (ms); duration_ms its duration                                        |
 * | input_tokens        | gen_ai.usage.input_tokens, else gen_ai.usage.prompt_tokens, else 0                     |
 * | output_tokens       | gen_ai.usage.output_tokens, else gen_ai.usage.completion_tokens, else 0                |
 * | cached_input_tokens | gen_ai.usage.cache_read.input_tokens, else gen_ai.usage.cache_read_input_tokens, else 0 |
 * | cost                | gen_ai.usage.cost (USD; no OTel convention, but OpenLIT's and others'), else null      |
 * | status, error_type  | error: error.type set, or span status Error; error_type error.type, else '_OTHER'      |
 * | session_id          | gen_ai.conversation.id, else null                                                      |
 * | attributes          | the span's other gen_ai.* attributes, message content left out                         |
 *
 * A token count that is not a whole number of at least 0 counts as 0 (the
 * span is kept: its latency and status still say something).
 */
export function toAgentEvents(spans: readonly Span[]): AgentEvent[] {
  const events: AgentEvent[] = [];
  for (const span of spans) {
    const a = span.span_attributes;
    const operation = a['gen_ai.operation.name'];
    if (!operation) continue;
    const model = a['gen_ai.response.model'] || a['gen_ai.request.model'] || '';
    const errorType = a['error.type'] || undefined;
    const failed = errorType !== undefined || span.status_code === 'Error';
    events.push({
      event_id: `${span.trace_id}:${span.span_id}`,
      tenant: span.tenant,
      agent: a['gen_ai.agent.name'] || span.service,
      model,
      provider: a['gen_ai.provider.name'] || a['gen_ai.system'] || '',
      operation,
      started_at: Math.floor(span.start_time_unix_nano / 1e6),
      duration_ms: span.duration_ns / 1e6,
      input_tokens: tokens(a, 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'),
      output_tokens: tokens(a, 'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'),
      cached_input_tokens: tokens(a, 'gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens'),
      cost: usd(a['gen_ai.usage.cost']),
      status: failed ? 'error' : 'ok',
      // The conventions' own word for a failure of no known type.
      error_type: failed ? (errorType ?? '_OTHER') : null,
      session_id: a['gen_ai.conversation.id'] || null,
      trace_id: span.trace_id,
      span_id: span.span_id,
      source: 'otlp',
      attributes: otherGenAiAttributes(a, model),
    });
  }
  return events;
}

/** Attributes an event's own fields already carry. */
const MAPPED = new Set([
  'gen_ai.operation.name',
  'gen_ai.agent.name',
  'gen_ai.response.model',
  'gen_ai.request.model',
  'gen_ai.provider.name',
  'gen_ai.system',
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.prompt_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.usage.completion_tokens',
  'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.cache_read_input_tokens',
  'gen_ai.usage.cost',
  'gen_ai.conversation.id',
]);

/**
 * Message content, opt-in in the conventions and often large: it stays on the
 * span (join on trace_id and span_id), so an event stays a small record.
 */
const CONTENT =
  /^gen_ai\.(input\.messages|output\.messages|system_instructions|tool\.definitions|tool\.call\.arguments|tool\.call\.result|prompt|completion)(\.|$)/;

/**
 * The span's gen_ai.* attributes no field holds, and the requested model when
 * the response named another. In the span's order, which is sorted (traces.ts).
 */
function otherGenAiAttributes(a: Record<string, string>, model: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key in a) {
    if (!key.startsWith('gen_ai.') || CONTENT.test(key)) continue;
    if (MAPPED.has(key) && !(key === 'gen_ai.request.model' && a[key] !== model)) continue;
    out[key] = a[key]!;
  }
  return out;
}

/** The first of `keys` the span has, as a token count: a whole number ≥ 0, else 0. */
function tokens(a: Record<string, string>, ...keys: string[]): number {
  for (const key of keys) {
    const text = a[key];
    if (text === undefined) continue;
    const n = Number(text);
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }
  return 0;
}

function usd(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : null;
}
