import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { sortKeys } from '../../lib/labels.ts';
import type { AgentEvent } from '../../schemas/topics.ts';
import { readJson } from '../body.ts';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { MAX_LABEL_NAME, MAX_LABEL_VALUE, timestamp } from '../records.ts';
import { parseItems, validateItems } from './ingest.ts';

/**
 * One LLM or agent call, for teams that do not send OpenTelemetry GenAI spans
 * (those become the same events: gateway/protocols/otlp/genai.ts). Strict, as
 * every JSON input: a misspelt field is an error, not data dropped.
 */
const name = z.string().min(1).max(256);
const hex = (length: number) =>
  z
    .string()
    .regex(new RegExp(`^[0-9a-fA-F]{${length}}$`), `${length} hex digits`)
    .transform((s) => s.toLowerCase());
const tokenCount = z.int().min(0);
/** Checks across fields run only on valid fields: a bad count is one problem, not two. */
const fieldsValid = (payload: { issues: readonly unknown[] }) => payload.issues.length === 0;

export const agentEventInput = z
  .strictObject({
    /** The sender's id for the call: a retried request with the same id is the same event. */
    id: name.optional(),
    agent: name,
    model: name,
    provider: z.string().max(256).default(''),
    operation: z.string().min(1).max(64).default('chat').describe('chat, text_completion, embeddings, invoke_agent, execute_tool, …'),
    started_at: timestamp,
    duration_ms: z.number().min(0),
    input_tokens: tokenCount,
    output_tokens: tokenCount,
    cached_input_tokens: tokenCount.default(0).describe('input tokens read from the provider’s cache, part of input_tokens'),
    cost: z.number().min(0).optional().describe('USD, when the sender knows it; else priced from the tenant’s price table'),
    status: z.enum(['ok', 'error']).optional().describe('ok, or error; error when `error` is given, else ok'),
    error: z.string().min(1).max(256).optional().describe('the failure’s type (stored as error_type)'),
    session_id: z.string().min(1).max(256).optional(),
    trace_id: hex(32).optional(),
    span_id: hex(16).optional(),
    attributes: z.record(z.string().min(1).max(MAX_LABEL_NAME), z.string().max(MAX_LABEL_VALUE)).default({}).transform(sortKeys),
  })
  .refine((e) => e.cached_input_tokens <= e.input_tokens, {
    path: ['cached_input_tokens'],
    message: 'cached_input_tokens is part of input_tokens: not more',
    when: fieldsValid,
  })
  .refine((e) => !(e.status === 'ok' && e.error !== undefined), {
    path: ['error'],
    message: 'an error was given for a call with status ok',
    when: fieldsValid,
  });

type AgentEventInput = z.output<typeof agentEventInput>;

export function toAgentEvent(tenant: string, e: AgentEventInput): AgentEvent {
  const event: Omit<AgentEvent, 'event_id'> = {
    tenant,
    agent: e.agent,
    model: e.model,
    provider: e.provider,
    operation: e.operation,
    started_at: e.started_at,
    duration_ms: e.duration_ms,
    input_tokens: e.input_tokens,
    output_tokens: e.output_tokens,
    cached_input_tokens: e.cached_input_tokens,
    cost: e.cost ?? null,
    status: e.status ?? (e.error === undefined ? 'ok' : 'error'),
    error_type: e.error ?? null,
    session_id: e.session_id ?? null,
    trace_id: e.trace_id ?? '',
    span_id: e.span_id ?? '',
    source: 'api',
    attributes: e.attributes,
  };
  return { event_id: e.id ?? contentId(event), ...event };
}

/**
 * An id for a call sent without one: SHA-256 of what it says, after parsing
 * (so an ISO started_at and its epoch ms give the same id), in a fixed field
 * order, attributes sorted. A request sent again is the same event, and the
 * table keeps it once; two calls that differ in anything are two events.
 */
function contentId(e: Omit<AgentEvent, 'event_id'>): string {
  const fields = [
    e.tenant,
    e.agent,
    e.model,
    e.provider,
    e.operation,
    e.started_at,
    e.duration_ms,
    e.input_tokens,
    e.output_tokens,
    e.cached_input_tokens,
    e.cost,
    e.status,
    e.error_type,
    e.session_id,
    e.trace_id,
    e.span_id,
    Object.entries(e.attributes),
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 32);
}

const batch = z.array(agentEventInput);

/**
 * POST /v1/agent-events: one call or an array of them, all or nothing (one
 * bad item refuses the request, nothing reaches Kafka), 202 only after
 * Kafka's ack, as POST /v1/deployments.
 */
export function agentEventRoutes(deps: GatewayDeps): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  app.post('/v1/agent-events', async (c) => {
    const items = parseItems(await readJson(c.req.raw), deps.config.maxBatch);
    deps.telemetry.recordsReceived.inc({ protocol: 'json', kind: 'agentEvents' }, items.length);
    const tenant = c.get('tenant');
    const records = validateItems(batch, items).map((e) => toAgentEvent(tenant, e));
    await deps.limiter.spend(tenant, records.length, () => deps.publisher.publishAll([{ kind: 'agentEvents', records }]));
    deps.telemetry.recordsAccepted.inc({ protocol: 'json', kind: 'agentEvents', tenant }, records.length);
    return c.json({ accepted: records.length }, 202);
  });
  return app;
}
