import { z } from 'zod';
import { ERROR_CODES } from '../lib/errors.ts';
import { ruleInputSchema } from '../processors/alert/rules.ts';
import { experimentSchema } from '../processors/analyze/experiments.ts';
import { createPromptVersionSchema } from '../processors/analyze/prompt-registry.ts';
import { notificationTargetSchema } from '../processors/notify/targets.ts';
import { alertmanagerWebhook } from './protocols/alertmanager.ts';
import { INPUTS } from './records.ts';
import { feedbackBody } from './routes/incidents.ts';

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

function ingestPath(kind: keyof typeof INPUTS, summary: string) {
  const one = { $ref: `#/components/schemas/${kind}` };
  return {
    post: {
      summary,
      security: [{ bearer: [] }],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { oneOf: [one, { type: 'array', items: one, minItems: 1 }] } } },
      },
      responses: {
        202: { description: 'every record acknowledged by Kafka', content: { 'application/json': { schema: { type: 'object', properties: { accepted: { type: 'integer' } } } } } },
        400: errorResponse('malformed JSON or invalid items (details name each); nothing written'),
        401: errorResponse('missing or unknown API key'),
        413: errorResponse('body or batch over the limit'),
        429: errorResponse('tenant over its rate limit; see Retry-After'),
        503: errorResponse('Kafka or the schema registry unavailable; retry after Retry-After'),
      },
    },
  };
}

/** An authenticated operation: its summary, request body schema (by component name or inline), and answers. */
function op(summary: string, responses: Record<number, string>, body?: { $ref: string } | object, contentType = 'application/json') {
  const answers = Object.fromEntries(Object.entries(responses).map(([code, description]) => [code, Number(code) >= 400 ? errorResponse(description) : { description }]));
  return {
    summary,
    security: [{ bearer: [] }],
    ...(body ? { requestBody: { required: true, content: { [contentType]: { schema: body } } } } : {}),
    responses: { ...answers, 401: errorResponse('missing or unknown API key') },
  };
}
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const binary = { type: 'string', format: 'binary' };
const crudPaths = (path: string, what: string, schema: string) => ({
  [path]: { get: op(`List the tenant's ${what}s`, { 200: `the ${what}s` }), post: op(`Create a ${what}`, { 201: 'created', 400: 'invalid; nothing saved' }, ref(schema)) },
  [`${path}/{id}`]: {
    get: op(`One ${what}`, { 200: `the ${what}`, 404: "no such id for this tenant" }),
    put: op(`Replace a ${what}`, { 200: 'replaced', 400: 'invalid; nothing saved', 404: 'no such id for this tenant' }, ref(schema)),
    delete: op(`Delete a ${what}`, { 204: 'deleted', 404: 'no such id for this tenant' }),
  },
});

let cached: object | undefined;

export function openApiDocument(): object {
  cached ??= {
    openapi: '3.1.0',
    info: { title: 'Autopilot gateway', version: '0.1.0', description: 'Ingest (JSON, Prometheus remote-write, Loki push, Alertmanager webhooks; 2xx only after Kafka acknowledged), incidents, alert rules, notification targets, prompts and experiments.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key from AUTOPILOT_API_KEYS (tenant:key)' } },
      schemas: {
        metrics: jsonSchema(INPUTS.metrics),
        logs: jsonSchema(INPUTS.logs),
        deployments: jsonSchema(INPUTS.deployments),
        AlertRule: jsonSchema(ruleInputSchema),
        NotificationTarget: jsonSchema(notificationTargetSchema),
        PromptVersion: jsonSchema(createPromptVersionSchema),
        Experiment: jsonSchema(experimentSchema),
        Feedback: jsonSchema(feedbackBody),
        AlertmanagerWebhook: jsonSchema(alertmanagerWebhook),
        Error: errorBody,
      },
    },
    paths: {
      '/v1/metrics': ingestPath('metrics', 'Ingest metric points'),
      '/v1/logs': ingestPath('logs', 'Ingest log entries'),
      '/v1/deployments': ingestPath('deployments', 'Ingest deployment events'),
      '/api/v1/write': {
        post: op(
          'Prometheus remote-write 1.0 (application/x-protobuf) or 2.0 (;proto=io.prometheus.write.v2.Request), snappy block-compressed',
          { 204: 'every sample acknowledged by Kafka (2.0: X-Prometheus-Remote-Write-*-Written headers)', 400: 'malformed, or a partial write (the valid part was written)', 413: 'too large', 415: 'unsupported content type or encoding', 429: 'tenant over its rate', 503: 'Kafka unavailable; retry' },
          binary,
          'application/x-protobuf',
        ),
      },
      '/loki/api/v1/push': {
        post: op('Loki push: JSON (optionally gzip) or snappy protobuf logproto.PushRequest', { 204: 'every line acknowledged by Kafka', 400: 'malformed, or a partial write', 413: 'too large', 415: 'unsupported content type', 429: 'tenant over its rate', 503: 'Kafka unavailable; retry' }, binary, 'application/x-protobuf'),
      },
      '/v1/alertmanager': {
        post: op('Alertmanager webhook (payload version 4)', { 202: 'every alert acknowledged by Kafka', 400: 'not a version 4 payload', 503: 'Kafka unavailable; retry' }, ref('AlertmanagerWebhook')),
      },
      '/v1/incidents': { get: op('Incidents, newest first (query: service, status, since, limit, cursor)', { 200: '{incidents, next_cursor}', 400: 'bad filter' }) },
      '/v1/incidents/{id}': { get: op('One incident: timeline, suspect deployment, latest analysis, feedback', { 200: 'the incident', 404: 'no such incident for this tenant' }) },
      '/v1/incidents/{id}/feedback': { post: op('Whether the analysis helped', { 201: 'recorded', 400: 'invalid', 404: 'no such incident for this tenant' }, ref('Feedback')) },
      ...crudPaths('/v1/alert-rules', 'alert rule', 'AlertRule'),
      ...crudPaths('/v1/notification-targets', 'notification target', 'NotificationTarget'),
      '/v1/prompts': { get: op('Prompts: latest version and tags', { 200: 'the prompts' }) },
      '/v1/prompts/{name}': { get: op('Versions and tags of a prompt', { 200: 'the prompt', 404: 'no such prompt' }) },
      '/v1/prompts/{name}/versions': { post: op('Create a version (variables checked)', { 201: 'created', 400: 'invalid template or unknown variable' }, ref('PromptVersion')) },
      '/v1/prompts/{name}/versions/{version}': { get: op('One version with its template', { 200: 'the version', 404: 'no such version' }) },
      '/v1/prompts/{name}/diff': { get: op('Unified diff between versions (query: from, to)', { 200: 'text/x-diff', 404: 'no such version' }) },
      '/v1/prompts/{name}/tags/{tag}': {
        put: op('Point a tag at a version', { 200: 'moved', 404: 'no such version' }, { type: 'object', required: ['version'], properties: { version: { type: 'integer', minimum: 1 } } }),
        delete: op('Remove a tag', { 204: 'removed', 404: 'no such tag' }),
      },
      '/v1/experiments': { get: op('Experiments', { 200: 'the experiments' }), post: op('Start an experiment (weights sum to 100)', { 201: 'running', 400: 'invalid split or unknown version' }, ref('Experiment')) },
      '/v1/experiments/{id}': { get: op('An experiment with its report: per variant incidents, feedback, helpful rate, z-test against the control', { 200: 'the report', 404: 'no such experiment' }) },
      '/v1/experiments/{id}/stop': { post: op('Stop an experiment', { 200: 'stopped', 404: 'no such experiment' }) },
      '/health/live': { get: { summary: 'Liveness', responses: { 200: { description: 'process is up' } } } },
      '/health/ready': { get: { summary: 'Readiness per dependency', responses: { 200: { description: 'ready' }, 503: { description: 'a dependency failed (named in checks)' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format' } } } },
    },
  };
  return cached;
}
