import { randomUUID } from 'node:crypto';
import type { AgentEvent } from '../../schemas/topics.ts';
import type { ModelCall } from './llm.ts';

/** The agent name the analyst's own model calls go by in the self tenant's agent telemetry. */
export const ANALYST_AGENT = 'autopilot-analyst';

/**
 * One of the analyst's Ollama calls as an agent event of the self tenant
 * (AUTOPILOT_SELF_TENANT), so "LLM and agents" shows Autopilot's own model
 * out of the box, priced like any call (local models cost 0 in the built-in
 * table). Each attempt is its own call with its own id: a retried or
 * re-analysed incident asked the model again.
 */
export function analystCallEvent(tenant: string, call: ModelCall, incident: { incident_id: string; service: string }): AgentEvent {
  return {
    event_id: randomUUID(),
    tenant,
    agent: ANALYST_AGENT,
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
    session_id: incident.incident_id,
    trace_id: '',
    span_id: '',
    source: 'api',
    attributes: { incident_id: incident.incident_id, service: incident.service },
  };
}
