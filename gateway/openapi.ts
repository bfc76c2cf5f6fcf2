import { z } from 'zod';
import { ERROR_CODES } from '../lib/errors.ts';
import { INPUTS } from './records.ts';

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

let cached: object | undefined;

export function openApiDocument(): object {
  cached ??= {
    openapi: '3.1.0',
    info: { title: 'Autopilot gateway', version: '0.1.0', description: 'Ingest for metrics, logs and deployments; 2xx only after Kafka acknowledged.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API key from AUTOPILOT_API_KEYS (tenant:key)' } },
      schemas: {
        metrics: jsonSchema(INPUTS.metrics),
        logs: jsonSchema(INPUTS.logs),
        deployments: jsonSchema(INPUTS.deployments),
        Error: errorBody,
      },
    },
    paths: {
      '/v1/metrics': ingestPath('metrics', 'Ingest metric points'),
      '/v1/logs': ingestPath('logs', 'Ingest log entries'),
      '/v1/deployments': ingestPath('deployments', 'Ingest deployment events'),
      '/health/live': { get: { summary: 'Liveness', responses: { 200: { description: 'process is up' } } } },
      '/health/ready': { get: { summary: 'Readiness per dependency', responses: { 200: { description: 'ready' }, 503: { description: 'a dependency failed (named in checks)' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format' } } } },
    },
  };
  return cached;
}
