import { randomUUID } from 'node:crypto';
import type { ModelCall } from '../lib/model-calls.ts';
import type { AgentEvent } from '../schemas/topics.ts';

/**
 * One of Autopilot's own Ollama calls (the analyst's, the assistant's) as an
 * agent event of the self tenant (AUTOPILOT_SELF_TENANT), so "LLM and agents"
 * shows Autopilot's own model out of the box, priced like any call (local
 * models cost 0 in the built-in table). Each call is its own event with its
 * own id: a retried attempt asked the model again.
 */
export function selfCallEvent(tenant: string, agent: string, call: ModelCall, sessionId: string, attributes: Record<string, string>): AgentEvent {
  return {
    event_id: randomUUID(),
    tenant,
    agent,
    model: call.model,
    provider: 'ollama',
    operation: 'chat',
    started_at: call.startedAt,
    duration_ms: call.durationMs,
    input_tokens: call.inputTokens,
    output_tokens: call.outputTokens,
    cached_input_tokens: 0,
    cost: null,
    status: call.error === null ? 'ok' : 'error',
    error_type: call.error,
    session_id: sessionId,
    trace_id: '',
    span_id: '',
    source: 'api',
    attributes,
  };
}
