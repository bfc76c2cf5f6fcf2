import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '../sql/client.ts';
import { migrate } from '../sql/migrate.ts';
import { refusalTestApp, TEST_KEYS } from '../test/helpers/gateway-app.ts';
import { openApiDocument } from './openapi.ts';

type Operation = { parameters?: Parameter[]; requestBody?: { content: Record<string, unknown> }; security?: unknown[]; responses: Record<string, unknown> };
type Parameter = { name: string; in: string; required?: boolean; schema?: object };
type PathItem = { parameters?: Parameter[] } & Record<string, Operation | Parameter[] | undefined>;

const doc = openApiDocument() as { paths: Record<string, PathItem> };
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const operations = Object.entries(doc.paths).flatMap(([template, item]) =>
  METHODS.filter((m) => item[m]).map((method) => ({ template, method, item, op: item[method] as Operation })),
);

/**
 * The OpenAPI document against the routes. Before this change it failed on
 * both counts: sixteen operations on templated paths declared no path parameters, and the
 * statuses below (400 for diff, versions/{version} and tags/{tag}, 413 and
 * 415 for the Alertmanager webhook, 415 anywhere) were answered but not
 * documented.
 */
describe('OpenAPI document', () => {
  it('declares every {parameter} of every templated path, and no other', () => {
    expect(operations.filter((o) => o.template.includes('{')).length).toBeGreaterThanOrEqual(16);
    for (const { template, item, op } of operations) {
      const inPath = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])].filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), template).toEqual(inPath.sort());
      for (const p of declared) {
        expect(p.required, `${template} {${p.name}}`).toBe(true);
        expect(p.schema, `${template} {${p.name}}`).toBeDefined();
      }
    }
  });

  it('lists 401 on every keyed operation, and 413 and 415 on every one that reads a JSON body', () => {
    for (const { template, method, op } of operations) {
      const where = `${method.toUpperCase()} ${template}`;
      if (op.security) expect(Object.keys(op.responses), where).toContain('401');
      if (op.requestBody?.content['application/json']) expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['413', '415']));
    }
  });
});

describe('statuses the routes answer are the documented ones', () => {
  let ch: ClickHouseClient;
  let withStores: ReturnType<typeof refusalTestApp>['app'];
  let withoutStores: ReturnType<typeof refusalTestApp>['app'];

  beforeAll(async () => {
    ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-openapi-')) });
    await migrate(ch);
    withStores = refusalTestApp({ clickhouse: ch, maxBodyBytes: 4096, tenantRate: 1 }).app;
    withoutStores = refusalTestApp().app;
  });
  afterAll(async () => ch?.close());

  const json = { 'content-type': 'application/json' };
  const point = { timestamp: Date.now(), metric_name: 'up', value: 1, labels: { service: 'api' } };
  const webhook = (alerts: unknown[]) => ({ version: '4', groupKey: 'g', status: 'firing', receiver: 'autopilot', alerts });
  const rule = { name: 'p99', kind: 'threshold', service: 'api', metric: 'latency_ms', field: 'p99', op: 'gt', value: 800, for: '5m' };
  const alert = { status: 'firing', labels: { alertname: 'A', service: 'api' }, startsAt: new Date().toISOString(), fingerprint: 'f1' };

  // [what, method, path as sent, the documented template, headers, body, status the route answers]
  const cases: [string, string, string, string, Record<string, string>, unknown, number, 'with' | 'without'][] = [
    ['no key', 'POST', '/v1/metrics', '/v1/metrics', json, point, 401, 'with'],
    ['JSON ingest sent as text/plain', 'POST', '/v1/metrics', '/v1/metrics', { 'content-type': 'text/plain' }, point, 415, 'with'],
    ['over the tenant rate', 'POST', '/v1/metrics', '/v1/metrics', json, [point, point], 429, 'with'],
    ['webhook over the body limit', 'POST', '/v1/alertmanager', '/v1/alertmanager', json, webhook(Array.from({ length: 40 }, () => alert)), 413, 'with'],
    [
      'webhook as form data',
      'POST',
      '/v1/alertmanager',
      '/v1/alertmanager',
      { 'content-type': 'application/x-www-form-urlencoded' },
      webhook([alert]),
      415,
      'with',
    ],
    ['webhook version 3', 'POST', '/v1/alertmanager', '/v1/alertmanager', json, { ...webhook([alert]), version: '3' }, 400, 'with'],
    ['diff without versions', 'GET', '/v1/prompts/p/diff?from=one', '/v1/prompts/{name}/diff', {}, undefined, 400, 'with'],
    ['diff of versions that do not exist', 'GET', '/v1/prompts/p/diff?from=1&to=2', '/v1/prompts/{name}/diff', {}, undefined, 404, 'with'],
    ['version that is not a number', 'GET', '/v1/prompts/p/versions/latest-ish', '/v1/prompts/{name}/versions/{version}', {}, undefined, 400, 'with'],
    ['version that does not exist', 'GET', '/v1/prompts/p/versions/3', '/v1/prompts/{name}/versions/{version}', {}, undefined, 404, 'with'],
    ['tag name refused', 'PUT', '/v1/prompts/p/tags/Not%20A%20Tag', '/v1/prompts/{name}/tags/{tag}', json, { version: 1 }, 400, 'with'],
    ['tag to a missing version', 'PUT', '/v1/prompts/p/tags/production', '/v1/prompts/{name}/tags/{tag}', json, { version: 1 }, 404, 'with'],
    [
      'tag body as text/plain',
      'PUT',
      '/v1/prompts/p/tags/production',
      '/v1/prompts/{name}/tags/{tag}',
      { 'content-type': 'text/plain' },
      { version: 1 },
      415,
      'with',
    ],
    [
      'prompt version as form data',
      'POST',
      '/v1/prompts/p/versions',
      '/v1/prompts/{name}/versions',
      { 'content-type': 'application/x-www-form-urlencoded' },
      { template: '{{context}}' },
      415,
      'with',
    ],
    ['no such rule', 'GET', '/v1/alert-rules/nope', '/v1/alert-rules/{id}', {}, undefined, 404, 'with'],
    ['rule as text/plain', 'POST', '/v1/alert-rules', '/v1/alert-rules', { 'content-type': 'text/plain' }, {}, 415, 'with'],
    ['replace no such target', 'PUT', '/v1/notification-targets/nope', '/v1/notification-targets/{id}', json, {}, 404, 'with'],
    ['bad incident filter', 'GET', '/v1/incidents?status=burning', '/v1/incidents', {}, undefined, 400, 'with'],
    ['bad feedback', 'POST', '/v1/incidents/x/feedback', '/v1/incidents/{id}/feedback', json, { helpful: 'yes' }, 400, 'with'],
    ['stop no such experiment', 'POST', '/v1/experiments/nope/stop', '/v1/experiments/{id}/stop', {}, undefined, 404, 'with'],
    ['incidents without ClickHouse', 'GET', '/v1/incidents', '/v1/incidents', {}, undefined, 503, 'without'],
    ['rules without ClickHouse', 'POST', '/v1/alert-rules', '/v1/alert-rules', json, rule, 503, 'without'],
    ['remote-write as text/plain', 'POST', '/api/v1/write', '/api/v1/write', { 'content-type': 'text/plain' }, 'x', 415, 'with'],
    ['Loki push as text/plain', 'POST', '/loki/api/v1/push', '/loki/api/v1/push', { 'content-type': 'text/plain' }, 'x', 415, 'with'],
  ];

  it.each(cases)('%s: %s %s', async (_what, method, sent, template, headers, body, status, stores) => {
    const app = stores === 'with' ? withStores : withoutStores;
    const key: Record<string, string> = status === 401 ? {} : { authorization: `Bearer ${TEST_KEYS.a}` };
    const res = await app.request(sent, {
      method,
      headers: { ...headers, ...key },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    expect(res.status, await res.text()).toBe(status);
    const op = doc.paths[template]?.[method.toLowerCase()] as Operation | undefined;
    expect(op, `${method} ${template} is documented`).toBeDefined();
    expect(Object.keys(op!.responses), `${method} ${template} documents ${status}`).toContain(String(status));
  });
});
