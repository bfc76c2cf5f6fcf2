import { z } from 'zod';
import { ERROR_CODES } from '../lib/errors.ts';
import { modelNameSchema, modelPriceInputSchema } from '../tenant-config/agent-prices.ts';
import { ruleInputSchema } from '../tenant-config/alert-rules.ts';
import { experimentSchema } from '../tenant-config/experiments.ts';
import { createPromptVersionSchema, promptNameSchema, tagNameSchema } from '../tenant-config/prompts.ts';
import { notificationTargetSchema } from '../tenant-config/notification-targets.ts';
import { jobSchema } from '../tenant-config/jobs.ts';
import { alertmanagerWebhook } from './protocols/alertmanager.ts';
import { INPUTS } from './records.ts';
import { agentEventInput } from './routes/agent-events.ts';
import { feedbackBody } from './routes/incidents.ts';
import { MAX_BUCKETS, STATISTICS_DEFINITIONS, TREND_METRICS_DESCRIPTION } from './routes/statistics.ts';
import { TREND_METRICS } from '../sql/stores/statistics.ts';
import { actionInputSchema } from '../tenant-config/actions.ts';
import { policySchema, settingsSchema } from '../tenant-config/remediation-policies.ts';
import { decisionBody } from './routes/proposals.ts';
/** Remediation writes need ClickHouse, Redis (proposals) and Kafka (the audit). */
const REMEDIATION_UNAVAILABLE = 'ClickHouse, Redis or Kafka (the audit) unavailable; nothing changed; retry after Retry-After';

/**
 * OpenAPI 3.1 for the public endpoints, with request bodies generated from the
 * same zod schemas that validate them, so the document cannot drift.
 */
const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' });

const errorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'request_id'],
      properties: {
        code: { type: 'string', enum: [...ERROR_CODES] },
        message: { type: 'string' },
        details: {},
        request_id: { type: 'string' },
      },
    },
  },
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

const JSON_BODY_ANSWERS: Record<number, string> = {
  413: 'body over AUTOPILOT_MAX_BODY_BYTES',
  415: 'a Content-Type other than application/json (a missing one is read as JSON)',
};
const STORED_ANSWERS: Record<number, string> = {
  503: 'ClickHouse cannot be reached from this process (a gateway alone needs CLICKHOUSE_URL); retry after Retry-After',
};

/** A JSON ingest route: one item of the named component schema, or an array of them. */
function ingestPath(schema: keyof typeof INPUTS | 'AgentEvent', summary: string) {
  const one = { $ref: `#/components/schemas/${schema}` };
  return {
    post: {
      summary,
      security: [{ bearer: [] }],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { oneOf: [one, { type: 'array', items: one, minItems: 1 }] } } },
      },
      responses: {
        202: {
          description: 'every record acknowledged by Kafka',
          content: { 'application/json': { schema: { type: 'object', properties: { accepted: { type: 'integer' } } } } },
        },
        400: errorResponse('malformed JSON or invalid items (details name each); nothing written'),
        401: errorResponse('missing or unknown API key'),
        413: errorResponse('body or batch over the limit'),
        415: errorResponse(JSON_BODY_ANSWERS[415]!),
        429: errorResponse('tenant over its rate limit; see Retry-After'),
        503: errorResponse('Kafka or the schema registry unavailable; retry after Retry-After'),
      },
    },
  };
}

/**
 * An authenticated operation: its summary, its answers, and what it reads.
 * The answers every such operation shares are added here, so none is
 * forgotten: 401 always; 413 and 415 with a JSON body; 503 when it reads or
 * writes ClickHouse (`stored`). `answers` may say them more precisely.
 */
/** An OTLP/HTTP export route (gateway/routes/otlp.ts): one shape for the three signals. */
function otlpOp(signal: string, message: string, items: string) {
  return op(
    `OTLP/HTTP ${signal} (an OpenTelemetry SDK or Collector \`otlphttp\` exporter with endpoint http://<gateway>/otlp): Export${message}ServiceRequest as protobuf or JSON, optionally gzip`,
    {
      200: `every accepted item acknowledged by Kafka; Export${message}ServiceResponse, with partial_success counting ${items} never to be written`,
      400: 'malformed (google.rpc.Status); nothing written',
      413: 'too large',
      415: 'unsupported content type',
      429: 'tenant over its rate; Retry-After',
      503: 'Kafka unavailable; Retry-After',
    },
    { body: binary, contentType: 'application/x-protobuf' },
  );
}

function op(summary: string, answers: Record<number, string>, reads: { body?: object; contentType?: string; stored?: boolean; query?: object[] } = {}) {
  const contentType = reads.contentType ?? 'application/json';
  const all: Record<number, string> = {
    401: 'missing or unknown API key',
    ...(reads.body && contentType === 'application/json' ? JSON_BODY_ANSWERS : {}),
    ...(reads.stored ? STORED_ANSWERS : {}),
    ...answers,
  };
  return {
    summary,
    security: [{ bearer: [] }],
    ...(reads.query ? { parameters: reads.query } : {}),
    ...(reads.body ? { requestBody: { required: true, content: { [contentType]: { schema: reads.body } } } } : {}),
    responses: Object.fromEntries(Object.entries(all).map(([code, description]) => [code, Number(code) >= 400 ? errorResponse(description) : { description }])),
  };
}

/** An operation on the incidents and configuration API, which lives in ClickHouse. */
const stored = (summary: string, answers: Record<number, string>, reads: { body?: object; query?: object[] } = {}) =>
  op(summary, answers, { ...reads, stored: true });

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const binary = { type: 'string', format: 'binary' };
const queryParameter = (name: string, schema: object, description: string, required = false) => ({ name, in: 'query', required, description, schema });
const STATISTICS_WINDOW = queryParameter('window', { type: 'string', default: '24h' }, "a trailing duration such as '1h', '24h', '7d' (1m to 31d)");
const SERVICE_SERIES =
  "{t, p50, p95, p99, throughput, error_rate} (arrays, one item per bucket, null where the bucket had nothing: t the bucket starts; p50/p95/p99 the latency_metric's percentiles, merged from the rollups' sketches as the service_latency view merges them; throughput its samples per second; error_rate the share 0..1 of log lines at error or fatal)";
const SERVICE_SPAN =
  'Times are epoch ms, [from, to) in buckets of step ms on multiples of the step: a minute for spans up to 2 h, else the fewest whole minutes giving at most 120 buckets.';
const LIVE_EVENTS = `a stream that starts with \`retry: 3000\` and has a comment line every 15 s while quiet. Events:
- \`event: incident\`: data is the incident as an item of GET /v1/incidents, each time a new version of it is written (opened, a new signal, resolved…), once per (incident_id, version).
- \`event: analysis\`: data is {incident_id, analysis_id, source, root_cause, root_cause_confidence, created_at}, once per analysis.
- \`event: proposal\`: data is {proposal_id, incident_id, service, action_id, action_name, mode, status, version, updated_at} (the fields of GET /v1/incidents/{id}'s proposals items, and what places the version; incident_id null when an alert triggered it), each time a new version of a remediation proposal is written (proposed, then approved, rejected or expired; blocked or executing; succeeded or failed; effective or ineffective), once per (proposal_id, version).
Changes visible before the request are not sent: subscribe, then load the current state.`;
const crudPaths = (path: string, what: string, schema: string) => ({
  [path]: {
    get: stored(`List the tenant's ${what}s`, { 200: `the ${what}s` }),
    post: stored(`Create a ${what}`, { 201: 'created', 400: 'invalid; nothing saved' }, { body: ref(schema) }),
  },
  [`${path}/{id}`]: {
    get: stored(`One ${what}`, { 200: `the ${what}`, 404: 'no such id for this tenant' }),
    put: stored(`Replace a ${what}`, { 200: 'replaced', 400: 'invalid; nothing saved', 404: 'no such id for this tenant' }, { body: ref(schema) }),
    delete: stored(`Delete a ${what}`, { 204: 'deleted', 404: 'no such id for this tenant' }),
  },
});

/** What each `{name}` in a path is; every templated path gets its parameters from here, so none goes undeclared. */
const PATH_PARAMETERS: Record<string, { description: string; schema: object }> = {
  id: { description: 'the id this API gave out', schema: { type: 'string' } },
  name: { description: 'the prompt name', schema: jsonSchema(promptNameSchema) },
  version: { description: 'a version number of the prompt', schema: { type: 'integer', minimum: 1 } },
  service: { description: 'a service name, as its data names it', schema: { type: 'string', minLength: 1, maxLength: 256 } },
  tag: { description: 'a tag name (production, candidate, …)', schema: jsonSchema(tagNameSchema) },
  tenant: { description: 'the tenant the Slack app answers for (as in AUTOPILOT_API_KEYS)', schema: { type: 'string' } },
  model: { description: 'a model name as calls name it (gpt-4o-mini, claude-sonnet-4, llama3.1); percent-encode a /', schema: jsonSchema(modelNameSchema) },
};

function withPathParameters(paths: Record<string, object>): Record<string, object> {
  return Object.fromEntries(
    Object.entries(paths).map(([path, item]) => {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      if (names.length === 0) return [path, item];
      const parameters = names.map((name) => {
        const known = PATH_PARAMETERS[name];
        if (!known) throw new Error(`openapi: ${path} has {${name}}, which PATH_PARAMETERS does not describe`);
        return { name, in: 'path', required: true, ...known };
      });
      return [path, { parameters, ...item }];
    }),
  );
}

let cached: object | undefined;

export function openApiDocument(): object {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'Autopilot gateway',
      version: '0.1.0',
      description:
        'Ingest (JSON, Prometheus remote-write, Loki push, Alertmanager webhooks; 2xx only after Kafka acknowledged), incidents, alert rules, notification targets, prompts and experiments.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key from AUTOPILOT_API_KEYS (tenant:key)' } },
      schemas: {
        metrics: jsonSchema(INPUTS.metrics),
        logs: jsonSchema(INPUTS.logs),
        deployments: jsonSchema(INPUTS.deployments),
        AgentEvent: jsonSchema(agentEventInput),
        AlertRule: jsonSchema(ruleInputSchema),
        ModelPrice: jsonSchema(modelPriceInputSchema),
        NotificationTarget: jsonSchema(notificationTargetSchema),
        Job: jsonSchema(jobSchema),
        PromptVersion: jsonSchema(createPromptVersionSchema),
        Experiment: jsonSchema(experimentSchema),
        Feedback: jsonSchema(feedbackBody),
        AlertmanagerWebhook: jsonSchema(alertmanagerWebhook),
        Error: errorBody,
      },
    },
    paths: withPathParameters({
      '/v1/metrics': ingestPath('metrics', 'Ingest metric points'),
      '/v1/logs': ingestPath('logs', 'Ingest log entries'),
      '/v1/deployments': ingestPath('deployments', 'Ingest deployment events'),
      '/v1/agent-events': ingestPath(
        'AgentEvent',
        'Ingest LLM and agent calls (model, tokens, latency, status); GenAI spans sent to /otlp/v1/traces become the same events',
      ),
      '/api/v1/write': {
        post: op(
          'Prometheus remote-write 1.0 (application/x-protobuf) or 2.0 (;proto=io.prometheus.write.v2.Request), snappy block-compressed',
          {
            204: 'every sample acknowledged by Kafka (2.0: X-Prometheus-Remote-Write-*-Written headers)',
            400: 'malformed, or a partial write (the valid part was written)',
            413: 'too large',
            415: 'unsupported content type or encoding',
            429: 'tenant over its rate',
            503: 'Kafka unavailable; retry',
          },
          { body: binary, contentType: 'application/x-protobuf' },
        ),
      },
      '/loki/api/v1/push': {
        post: op(
          'Loki push: JSON (optionally gzip) or snappy protobuf logproto.PushRequest',
          {
            204: 'every line acknowledged by Kafka',
            400: 'malformed, or a partial write',
            413: 'too large',
            415: 'unsupported content type',
            429: 'tenant over its rate',
            503: 'Kafka unavailable; retry',
          },
          { body: binary, contentType: 'application/x-protobuf' },
        ),
      },
      '/otlp/v1/metrics': { post: otlpOp('metrics', 'Metrics', 'data points') },
      '/otlp/v1/logs': { post: otlpOp('logs', 'Logs', 'log records') },
      '/otlp/v1/traces': { post: otlpOp('traces', 'Trace', 'spans') },
      '/v1/alertmanager': {
        post: op(
          'Alertmanager webhook (payload version 4)',
          {
            202: 'every alert acknowledged by Kafka',
            400: 'not a version 4 payload, or an alert out of bounds (details name it)',
            429: 'tenant over its rate',
            503: 'Kafka unavailable; retry',
          },
          { body: ref('AlertmanagerWebhook') },
        ),
      },
      '/v1/incidents': {
        get: stored(
          'Incidents, newest first',
          { 200: '{incidents, next_cursor}', 400: 'bad filter or cursor' },
          {
            query: [
              queryParameter('service', { type: 'string', maxLength: 256 }, 'only this service'),
              queryParameter('status', { type: 'string', enum: ['open', 'resolved'] }, 'only open or only resolved'),
              queryParameter('since', { type: 'string' }, 'opened at or after: epoch ms or ISO 8601 with a zone'),
              queryParameter('limit', { type: 'integer', minimum: 1, maximum: 500, default: 50 }, 'page size'),
              queryParameter('cursor', { type: 'string' }, 'next_cursor of the previous page'),
            ],
          },
        ),
      },
      '/v1/incidents/{id}': {
        get: stored('One incident: timeline, suspect deployment, latest analysis, feedback', { 200: 'the incident', 404: 'no such incident for this tenant' }),
      },
      '/v1/incidents/{id}/feedback': {
        post: stored('Whether the analysis helped', { 201: 'recorded', 400: 'invalid', 404: 'no such incident for this tenant' }, { body: ref('Feedback') }),
      },
      ...crudPaths('/v1/alert-rules', 'alert rule', 'AlertRule'),
      ...crudPaths('/v1/notification-targets', 'notification target', 'NotificationTarget'),
      '/v1/prompts': { get: stored('Prompts: latest version and tags', { 200: 'the prompts' }) },
      '/v1/prompts/{name}': { get: stored('Versions and tags of a prompt', { 200: 'the prompt', 404: 'no such prompt' }) },
      '/v1/prompts/{name}/versions': {
        post: stored(
          'Create a version (variables checked)',
          { 201: 'created', 400: 'invalid prompt name, template or unknown variable' },
          { body: ref('PromptVersion') },
        ),
      },
      '/v1/prompts/{name}/versions/{version}': {
        get: stored('One version with its template', { 200: 'the version', 400: 'the version is not a positive integer', 404: 'no such version' }),
      },
      '/v1/prompts/{name}/diff': {
        get: stored(
          'Unified diff between two versions',
          { 200: 'the diff, as text/x-diff', 400: 'from and to missing or not positive integers', 404: 'no such version' },
          {
            query: [
              queryParameter('from', { type: 'integer', minimum: 1 }, 'the older version', true),
              queryParameter('to', { type: 'integer', minimum: 1 }, 'the newer version', true),
            ],
          },
        ),
      },
      '/v1/prompts/{name}/tags/{tag}': {
        put: stored(
          'Point a tag at a version',
          { 200: 'moved', 400: 'invalid tag name or body', 404: 'no such version' },
          { body: { type: 'object', required: ['version'], properties: { version: { type: 'integer', minimum: 1 } }, additionalProperties: false } },
        ),
        delete: stored('Remove a tag', { 204: 'removed', 404: 'no such tag' }),
      },
      '/v1/experiments': {
        get: stored('Experiments', { 200: 'the experiments' }),
        post: stored('Start an experiment (weights sum to 100)', { 201: 'running', 400: 'invalid split or unknown version' }, { body: ref('Experiment') }),
      },
      '/v1/experiments/{id}': {
        get: stored('An experiment with its report: per variant incidents, feedback, helpful rate, z-test against the control', {
          200: 'the report',
          404: 'no such experiment',
        }),
      },
      '/v1/experiments/{id}/stop': { post: stored('Stop an experiment', { 200: 'stopped', 404: 'no such experiment' }) },
      '/v1/agent-prices': {
        get: stored(
          "The tenant's effective LLM price table (its own prices over the built-in ones, with their date), USD per million tokens",
          {
            200: '{version, defaults_date, models: {model: {input_per_mtok, output_per_mtok, cached_input_per_mtok, source}}}',
            400: 'bad version',
            404: 'no such version',
          },
          { query: [queryParameter('version', { type: 'integer', minimum: 0 }, 'an earlier version (0: the built-in table alone); default the latest')] },
        ),
      },
      '/v1/agent-prices/versions': {
        get: stored("Every version of the tenant's price table: number, change, time", { 200: '{items: [{version, change, created_at, models}]}' }),
      },
      '/v1/agent-prices/{model}': {
        put: stored(
          "Set the tenant's own price of a model (a new version; calls that start from now on are priced with it)",
          { 200: 'saved: the new version', 400: 'invalid model name or price; nothing saved' },
          { body: ref('ModelPrice') },
        ),
        delete: stored("Remove the tenant's own price of a model (a new version; the built-in price applies again, if any)", {
          204: 'removed',
          404: 'the tenant has no price of its own for this model',
        }),
      },
      '/v1/agents/stats': {
        get: stored(
          'LLM and agent calls over a trailing window, per agent or per model: count, errors, success rate, exact P50/P95/P99 latency, tokens, cost',
          {
            200: '{window, by, groups: [{agent|model, count, errors, success_rate, p50_ms, p95_ms, p99_ms, input_tokens, output_tokens, cost_usd, unpriced_calls}]}',
            400: 'bad window or by',
          },
          {
            query: [
              queryParameter('window', { type: 'string', default: '1h' }, "a duration such as '15m', '1h', '7d' (at most 31d)"),
              queryParameter('by', { type: 'string', enum: ['agent', 'model'], default: 'agent' }, 'group by agent (all its models) or by model (all agents)'),
            ],
          },
        ),
      },
      ...crudPaths('/v1/jobs', 'scheduled job (http_probe, status_page, scrape, extract)', 'Job'),
      '/v1/jobs/kinds': { get: stored('The job kinds this server runs', { 200: '{kinds}' }) },
      '/v1/jobs/{id}/pause': { post: stored('Pause a job (enabled: false): no scheduled runs until resumed', { 200: 'the job', 404: 'no such job' }) },
      '/v1/jobs/{id}/resume': {
        post: stored('Resume a paused job: ticks from now on run (the ones missed while paused are not caught up)', { 200: 'the job', 404: 'no such job' }),
      },
      '/v1/jobs/{id}/trigger': {
        post: stored('Run a job now, once, paused or not (its overlap policy applies)', {
          202: '{run_id, job_id, requested_at}: a scheduler takes it within SCHEDULER_TICK_MS',
          404: 'no such job',
        }),
      },
      '/v1/jobs/{id}/runs': {
        get: stored(
          "A job's runs, newest first, with counts by outcome",
          {
            200: '{job_id, counts: {total, success, failure, timeout, skipped, last_run_at, last_outcome}, items: [run]}',
            400: 'bad query',
            404: 'no such job',
          },
          {
            query: [
              queryParameter('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 50 }, 'page size'),
              queryParameter('outcome', { type: 'string', enum: ['success', 'failure', 'timeout', 'skipped'] }, 'only this outcome'),
              queryParameter('before', { type: 'integer' }, 'runs started before this epoch ms (the last item of the previous page)'),
            ],
          },
        ),
      },
      '/v1/extractions': {
        get: stored(
          'What extraction (and scrape with extract) jobs read from pages: result, quality score and its parts, raw answer, status',
          { 200: '{items}', 400: 'bad query' },
          {
            query: [
              queryParameter('job_id', { type: 'string' }, 'only this job'),
              queryParameter('status', { type: 'string', enum: ['ok', 'invalid', 'model_unavailable'] }, 'only this status'),
              queryParameter('limit', { type: 'integer', minimum: 1, maximum: 500, default: 50 }, 'page size'),
              queryParameter('before', { type: 'integer' }, 'extractions before this epoch ms'),
            ],
          },
        ),
      },
      '/v1/external-status': {
        get: stored(
          'The current state of every watched third-party status page: per provider, its components, open incidents and maintenances (resolved ones for a day)',
          {
            200: '{providers: [{provider, degraded, subjects: [{subject_kind, subject_id, subject_name, status, degraded, impact, message, url, since, services}]}]}',
            400: 'bad query',
          },
          { query: [queryParameter('provider', { type: 'string' }, 'only this provider')] },
        ),
      },
      '/v1/assistant/sessions': {
        post: stored(
          'Start an assistant session (a conversation kept in ClickHouse)',
          { 201: '{session_id, title, created_at, updated_at}', 400: 'invalid body' },
          { body: { type: 'object', properties: { title: { type: 'string', maxLength: 200 } }, additionalProperties: false } },
        ),
      },
      '/v1/assistant/sessions/{id}': {
        get: stored('A session and how many messages it has', {
          200: '{session_id, title, created_at, updated_at, messages}',
          404: 'no such session for this tenant',
        }),
        delete: stored('Delete a session', { 204: 'deleted', 404: 'no such session for this tenant' }),
      },
      '/v1/assistant/sessions/{id}/messages': {
        get: stored("The session's messages in order: questions, and answers with their trace", { 200: '{items}', 404: 'no such session for this tenant' }),
        post: stored(
          'Ask a question. The model plans and calls read-only tools scoped to this tenant (metrics, incidents, anomalies, logs, deployments, alerts, third-party status, GitHub when configured), within budgets of tool calls, rows, bytes and time; without the model, recognised questions get rule-based answers. With Accept: text/event-stream or ?stream=true: server-sent events `step` (each model or tool call as it happens) then `answer` (or `error`).',
          {
            200: '{message_id, seq, source: llm|rules|needs_model, model, fallback_reason, summary, findings: [{statement, evidence: [{ref, label}], unsupported}], next_steps, confidence, trace, tool_calls, input_tokens, output_tokens, duration_ms, created_at}',
            400: 'no question, or over 4000 characters',
            404: 'no such session for this tenant',
          },
          {
            body: {
              type: 'object',
              required: ['question'],
              properties: { question: { type: 'string', minLength: 1, maxLength: 4000 } },
              additionalProperties: false,
            },
            query: [queryParameter('stream', { type: 'string', enum: ['true', 'false'] }, 'answer as server-sent events')],
          },
        ),
      },
      // Remediation (gateway/routes/actions.ts, remediation-policies.ts, proposals.ts, slack-interactions.ts).
      '/v1/actions': {
        get: stored('Remediation actions (webhook, github_workflow, kubernetes, docker); secrets shown as "***"', {
          200: '{items}',
          503: REMEDIATION_UNAVAILABLE,
        }),
        post: stored(
          'Create an action: URLs pass the SSRF guard, secrets (token, signing_secret) are stored encrypted with AUTOPILOT_SECRET_KEY and never shown; audited',
          { 201: 'created (secrets as "***")', 400: 'invalid, or a secret with no AUTOPILOT_SECRET_KEY; nothing saved', 503: REMEDIATION_UNAVAILABLE },
          { body: jsonSchema(actionInputSchema) },
        ),
      },
      '/v1/actions/{id}': {
        get: stored('One action', { 200: 'the action', 404: 'no such id for this tenant' }),
        put: stored(
          'Replace an action; a secret left out (or sent as "***") keeps the stored one; audited',
          { 200: 'replaced', 400: 'invalid; nothing saved', 404: 'no such id for this tenant', 503: REMEDIATION_UNAVAILABLE },
          { body: jsonSchema(actionInputSchema) },
        ),
        delete: stored('Delete an action; audited', {
          204: 'deleted',
          404: 'no such id for this tenant',
          409: 'a policy uses it (details.policies names them)',
          503: REMEDIATION_UNAVAILABLE,
        }),
      },
      '/v1/remediation-policies': {
        get: stored('Remediation policies: when to propose which action, in which mode', { 200: '{items}' }),
        post: stored(
          'Create a policy: its action must exist, auto only with a low-risk action, every {{placeholder}} of the action an incident fact or one of variables; audited',
          { 201: 'created', 400: 'invalid (details name the field); nothing saved', 503: REMEDIATION_UNAVAILABLE },
          { body: jsonSchema(policySchema) },
        ),
      },
      '/v1/remediation-policies/{id}': {
        get: stored('One policy', { 200: 'the policy', 404: 'no such id for this tenant' }),
        put: stored(
          'Replace a policy (checked as on create); audited',
          { 200: 'replaced', 400: 'invalid; nothing saved', 404: 'no such id for this tenant', 503: REMEDIATION_UNAVAILABLE },
          { body: jsonSchema(policySchema) },
        ),
        delete: stored('Delete a policy; audited', { 204: 'deleted', 404: 'no such id for this tenant', 503: REMEDIATION_UNAVAILABLE }),
      },
      '/v1/remediation-settings': {
        get: stored('Who may approve, and the Slack app for approval buttons (signing secret shown as "***")', {
          200: '{approvers, slack_target_id?, slack_signing_secret?: "***", updated_at}',
        }),
        put: stored(
          'Replace the settings: approvers (names for API approvals, slack:<user id> for Slack; none: anyone with the key), the Slack signing secret (encrypted, write-only, kept when left out), slack_target_id (a Slack notification target); audited',
          {
            200: 'saved',
            400: 'invalid, an unknown or non-Slack target, or a secret with no AUTOPILOT_SECRET_KEY; nothing saved',
            503: REMEDIATION_UNAVAILABLE,
          },
          { body: jsonSchema(settingsSchema) },
        ),
      },
      '/v1/proposals': {
        get: stored(
          'Remediation proposals, newest first, with their live status',
          { 200: '{items: [proposal]}', 400: 'bad query' },
          {
            query: [
              queryParameter(
                'status',
                { type: 'string' },
                'only this status (proposed, approved, rejected, expired, executing, succeeded, failed, blocked, effective, ineffective)',
              ),
              queryParameter('service', { type: 'string' }, 'only this service'),
              queryParameter('incident_id', { type: 'string' }, 'only the proposals for this incident'),
              queryParameter('limit', { type: 'integer', minimum: 1, maximum: 500, default: 50 }, 'page size'),
              queryParameter('before', { type: 'integer' }, 'proposals created before this epoch ms (the last item of the previous page)'),
            ],
          },
        ),
      },
      '/v1/proposals/{id}': {
        get: stored('One proposal: its action, variables, status, decision and execution', { 200: 'the proposal', 404: 'no such proposal for this tenant' }),
      },
      ...Object.fromEntries(
        (['approve', 'reject'] as const).map((verb) => [
          `/v1/proposals/{id}/${verb}`,
          {
            post: stored(
              `${verb === 'approve' ? 'Approve a proposal: the executor runs it once' : 'Reject a proposal'} (decided_by api:<approver>); audited`,
              {
                200: 'the proposal, decided',
                403: "approver is not one of the tenant's approvers (or missing while it names some)",
                404: 'no such proposal for this tenant',
                409: `no longer waiting for a decision (approved, rejected, expired…; details.status)${verb === 'approve' ? ', or a suggestion, which is never run' : ''}`,
                503: REMEDIATION_UNAVAILABLE,
              },
              { body: jsonSchema(decisionBody) },
            ),
          },
        ]),
      ),
      '/v1/audit': {
        get: stored(
          'The remediation audit, newest first: proposals, approvals, rejections, expiries, executions and outcomes, configuration changes; who and when',
          { 200: '{items: [{event_id, at, actor, event, subject_kind, subject_id, service, details}]}', 400: 'bad query' },
          {
            query: [
              queryParameter('since', { type: 'string' }, 'at or after: epoch ms or ISO 8601 with a zone'),
              queryParameter('subject_id', { type: 'string' }, 'only events about this proposal, action, policy or settings'),
              queryParameter('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, 'page size'),
            ],
          },
        ),
      },
      '/slack/interactions/{tenant}': {
        post: {
          summary:
            "Slack interactivity Request URL for proposals' Approve / Reject buttons. No API key: verified by X-Slack-Signature under the tenant's signing secret, X-Slack-Request-Timestamp within 5 minutes, a signature used once",
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: { type: 'object', required: ['payload'], properties: { payload: { type: 'string', description: 'block_actions JSON' } } },
              },
            },
          },
          responses: {
            200: { description: '{replace_original, text}: what happened (or why nothing changed: not an approver, already decided)' },
            400: errorResponse('signed, but not a proposal button'),
            401: errorResponse('bad or missing signature, stale timestamp, replayed signature, or no signing secret configured; nothing changed'),
            413: errorResponse('body over AUTOPILOT_MAX_BODY_BYTES'),
            503: errorResponse('Redis or ClickHouse unavailable; nothing changed'),
          },
        },
      },
      '/v1/services': {
        get: stored(
          "The tenant's services over the last minutes: each with rollups, log lines or deployments in the span, or an open incident; open incidents first (worst severity first), then by name",
          {
            200: `{from, to, step, services: [{service, latency_metric, open_incidents, worst_open_severity, last_deployment: {version, status, at} | null, series: ${SERVICE_SERIES}}]}. ${SERVICE_SPAN} Here to is now rounded up to the step, and the span the fewest steps covering the minutes asked.`,
            400: 'minutes out of 5..1440, or an unknown parameter',
          },
          {
            query: [
              queryParameter('minutes', { type: 'integer', minimum: 5, maximum: 1440, default: 60 }, 'how far back'),
              queryParameter('q', { type: 'string', maxLength: 256 }, 'only services whose name contains this (any case)'),
            ],
          },
        ),
      },
      '/v1/services/{service}/series': {
        get: stored(
          "One service's series over [from, to), and its deployments in it; a service with no data has every bucket null",
          {
            200: `{service, latency_metric, from, to, step, series: ${SERVICE_SERIES}, deployments: [{version, status, at}]}. ${SERVICE_SPAN} Here from is rounded down to the step and to up.`,
            400: 'from or to missing or not epoch ms, from not before to, or a span over 7 days',
          },
          {
            query: [
              queryParameter('from', { type: 'integer', minimum: 0 }, 'start, epoch ms', true),
              queryParameter('to', { type: 'integer', minimum: 0 }, 'end (exclusive), epoch ms; at most 7 days after from', true),
              queryParameter(
                'metric',
                { type: 'string', maxLength: 256 },
                'the latency metric to chart (default: the busiest one named like duration or latency)',
              ),
            ],
          },
        ),
      },
      '/v1/live': {
        get: stored("The tenant's changes as server-sent events (text/event-stream), from the moment of the request", { 200: LIVE_EVENTS }),
      },
      '/v1/statistics/overview': {
        get: {
          ...stored(
            "The tenant's activity over a trailing window: rows ingested per kind and per protocol, active series, incidents (open, opened, resolved, MTTA, MTTR), analyses by source, helpful rate, notifications, the assistant's answers",
            {
              200: '{window, from, to, ingest: {rows, rows_per_second, by_protocol}, series: {active}, incidents: {open, opened, resolved, mtta_s, acknowledged, mttr_s, time_to_analysis_s, analysed}, analyses: {total, by_source}, feedback: {count, helpful, helpful_rate}, notifications: {total, by_outcome}, assistant: {answers, sessions, by_source, latency_ms: {mean, p50, p95, p99}, tool_calls, input_tokens, output_tokens}}',
              400: 'bad window',
            },
            { query: [STATISTICS_WINDOW] },
          ),
          description: STATISTICS_DEFINITIONS,
        },
      },
      '/v1/statistics/trends': {
        get: {
          ...stored(
            'One statistic over time: a point per interval (on multiples of the interval since the epoch; the last one in progress), empty intervals included',
            {
              200: '{metric, unit, description, window, interval, from, to, points: [{start, value, count?, groups?}]}: value null where there is nothing to average; count is what a mean, share or percentile is of; groups are the parts of a count',
              400: `bad metric, window or interval, or more than ${MAX_BUCKETS} intervals in the window`,
              404: 'ingest_protocols on a server without self-monitoring (AUTOPILOT_SELF_TENANT)',
            },
            {
              query: [
                queryParameter('metric', { type: 'string', enum: TREND_METRICS }, 'the statistic (below)', true),
                STATISTICS_WINDOW,
                queryParameter('interval', { type: 'string', default: '1h' }, "a duration such as '5m', '1h', '1d' (at least 1m)"),
              ],
            },
          ),
          description: `Metrics:\n\n${TREND_METRICS_DESCRIPTION}\n\nDefinitions as for /v1/statistics/overview.`,
        },
      },
      '/health': {
        get: {
          summary: 'Status and version, no key: status ok, or degraded when a dependency does not answer (readiness, with 503, is /health/ready)',
          responses: { 200: { description: '{status: ok|degraded, version, uptime_s}' } },
        },
      },
      '/health/detailed': {
        get: {
          summary:
            'Each dependency with its latency, the lag of the processors this process runs, memory and event-loop delay; no key, as /health/ready and /metrics already show the same',
          responses: {
            200: {
              description:
                '{status, version, uptime_s, checks: [{name, ok, latency_ms, error?}], processors: {total_lag, partitions: [{processor, topic, partition, lag, stalled}]} | null (no processors here), memory: {rss_bytes, heap_used_bytes, heap_total_bytes, heap_limit_bytes, external_bytes, array_buffers_bytes}, event_loop_delay_ms: {window_s, mean, p50, p99, max}}',
            },
          },
        },
      },
      '/': {
        get: {
          summary: 'The browser console (sign in with an API key); its files are public, every datum comes from /v1 with the key',
          responses: { 200: { description: 'an HTML page' } },
        },
      },
      '/console/*': {
        get: {
          summary: "The console's scripts, stylesheet and uPlot, from this server only (nothing is fetched from the internet)",
          responses: { 200: { description: 'text/javascript or text/css' }, 304: { description: 'unchanged since the ETag sent' } },
        },
      },
      '/v1/me': { get: op('Which tenant the API key belongs to (the console shows it after sign-in)', { 200: '{tenant}' }) },
      '/docs': { get: { summary: 'Interactive API docs (Swagger UI) on this document', responses: { 200: { description: 'an HTML page' } } } },
      '/docs/swagger-ui-dist/swagger-ui.css': {
        get: {
          summary: "The docs page's stylesheet, from the swagger-ui-dist package (nothing is fetched from the internet)",
          responses: { 200: { description: 'text/css' } },
        },
      },
      '/docs/swagger-ui-dist/swagger-ui-bundle.js': {
        get: { summary: "The docs page's script, from the swagger-ui-dist package", responses: { 200: { description: 'text/javascript' } } },
      },
      '/health/live': { get: { summary: 'Liveness', responses: { 200: { description: 'process is up' } } } },
      '/health/ready': {
        get: {
          summary: 'Readiness per dependency',
          responses: { 200: { description: 'ready' }, 503: { description: 'a dependency failed (named in checks)' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics, no key; tenants named only with AUTOPILOT_METRICS_TENANT_LABELS=true',
          responses: { 200: { description: 'text exposition format' } },
        },
      },
      '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    }),
  };
  return cached;
}
