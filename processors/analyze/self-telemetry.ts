import type { ModelCall } from '../../lib/model-calls.ts';
import { selfCallEvent } from '../../platform/self-agent-events.ts';
import type { AgentEvent } from '../../schemas/topics.ts';

/** The agent name the analyst's own model calls go by in the self tenant's agent telemetry. */
export const ANALYST_AGENT = 'autopilot-analyst';

/** One of the analyst's Ollama calls as an agent event of the self tenant, in the incident's session. */
export function analystCallEvent(tenant: string, call: ModelCall, incident: { incident_id: string; service: string }): AgentEvent {
  return selfCallEvent(tenant, ANALYST_AGENT, call, incident.incident_id, { incident_id: incident.incident_id, service: incident.service });
}
