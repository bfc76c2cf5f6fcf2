import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStores } from '../gateway/stores.ts';
import type { IncidentRecord } from '../schemas/topics.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * The read and configuration API over the real pipeline: incidents (list,
 * filters, pagination, detail, feedback), prompts (versions, variables,
 * diff, tags), experiments (split validation, report) and alert rules, each
 * scoped to the caller's tenant: tenant B gets 404s and empty lists for
 * everything of tenant A's, and nothing B sends changes A's data.
 */
describe('incidents, prompts, experiments and rules API', () => {
  let p: TestPipeline;
  const T = Date.now() - 60 * 60_000;
  const incident = (n: number, over: Partial<IncidentRecord> = {}): IncidentRecord => ({
    incident_id: `inc_${n}`,
    tenant: p.tenants.a,
    service: n % 2 ? 'checkout' : 'search',
    version: 1,
    status: n === 3 ? 'resolved' : 'open',
    severity: 'high',
    opened_at: T + n * 60_000,
    updated_at: T + n * 60_000 + 5000,
    resolved_at: n === 3 ? T + n * 60_000 + 60_000 : null,
    signals: [{ id: `a${n}`, kind: 'anomaly', at: T + n * 60_000, summary: 'latency_ms = 900 vs baseline 100 (z 12)', severity: 'high' }],
    signal_count: 1,
    suspect_deployment: { id: `dep_${n}`, version: 'v7', at: T + n * 60_000 - 120_000, minutes_before: 2 },
    ...over,
  });
  const as = (who: 'a' | 'b') => (method: string, path: string, body?: unknown) =>
    p.app.request(path, {
      method,
      headers: { authorization: `Bearer ${p.keys[who]}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  const a = (m: string, path: string, body?: unknown) => as('a')(m, path, body);
  const b = (m: string, path: string, body?: unknown) => as('b')(m, path, body);

  beforeAll(async () => {
    p = await startTestPipeline('api', { processors: ['sink'] });
    await p.publisher.publish(
      'incidents',
      [1, 2, 3, 4, 5].map((n) => incident(n)),
    );
    await eventually(
      () => p.rows('SELECT incident_id FROM incidents WHERE tenant = {t:String}', { t: p.tenants.a }),
      (r) => r.length === 5,
    );
  });
  afterAll(async () => p?.stop());

  it('lists incidents with filters and keyset pagination, newest first', async () => {
    const all = (await (await a('GET', '/v1/incidents')).json()) as { incidents: { incident_id: string }[]; next_cursor: string | null };
    expect(all.incidents.map((i) => i.incident_id)).toEqual(['inc_5', 'inc_4', 'inc_3', 'inc_2', 'inc_1']);
    expect(all.next_cursor).toBeNull();

    const open = (await (await a('GET', '/v1/incidents?status=open&service=checkout')).json()) as { incidents: { incident_id: string }[] };
    expect(open.incidents.map((i) => i.incident_id)).toEqual(['inc_5', 'inc_1']);
    const since = (await (await a('GET', `/v1/incidents?since=${new Date(T + 3.5 * 60_000).toISOString()}`)).json()) as {
      incidents: { incident_id: string }[];
    };
    expect(since.incidents.map((i) => i.incident_id)).toEqual(['inc_5', 'inc_4']);

    const page1 = (await (await a('GET', '/v1/incidents?limit=2')).json()) as { incidents: { incident_id: string }[]; next_cursor: string };
    const page2 = (await (await a('GET', `/v1/incidents?limit=2&cursor=${page1.next_cursor}`)).json()) as {
      incidents: { incident_id: string }[];
      next_cursor: string;
    };
    const page3 = (await (await a('GET', `/v1/incidents?limit=2&cursor=${page2.next_cursor}`)).json()) as {
      incidents: { incident_id: string }[];
      next_cursor: string | null;
    };
    expect([...page1.incidents, ...page2.incidents, ...page3.incidents].map((i) => i.incident_id)).toEqual(['inc_5', 'inc_4', 'inc_3', 'inc_2', 'inc_1']);
    expect(page3.next_cursor).toBeNull();

    expect((await a('GET', '/v1/incidents?status=burning')).status).toBe(400);
    expect((await a('GET', '/v1/incidents?limit=100000')).status).toBe(400);
    expect((await a('GET', '/v1/incidents?cursor=not-a-cursor')).status).toBe(400);
    expect((await a('GET', '/v1/incidents?service=x%27%20OR%201%3D1%20--')).status).toBe(200); // a value, never SQL
  });

  it('shows one incident with its timeline and takes feedback; tenant B sees none of it', async () => {
    const res = await a('GET', '/v1/incidents/inc_1');
    expect(res.status).toBe(200);
    const detail = (await res.json()) as { signals: unknown[]; suspect_deployment: { version: string }; feedback: { count: number } };
    expect(detail.signals).toHaveLength(1);
    expect(detail.suspect_deployment.version).toBe('v7');

    expect((await a('POST', '/v1/incidents/inc_1/feedback', { helpful: true, comment: 'spot on' })).status).toBe(201);
    expect((await a('POST', '/v1/incidents/inc_1/feedback', { helpful: 'yes' })).status).toBe(400);
    expect((await a('POST', '/v1/incidents/inc_1/feedback', { helpful: true, extra: 1 })).status).toBe(400);
    expect((await a('POST', '/v1/incidents/inc_nope/feedback', { helpful: true })).status).toBe(404);
    const after = (await (await a('GET', '/v1/incidents/inc_1')).json()) as { feedback: { count: number; helpful: number } };
    expect(after.feedback).toEqual({ count: 1, helpful: 1 });

    expect((await b('GET', '/v1/incidents/inc_1')).status).toBe(404);
    expect((await b('POST', '/v1/incidents/inc_1/feedback', { helpful: false })).status).toBe(404);
    expect(((await (await b('GET', '/v1/incidents')).json()) as { incidents: unknown[] }).incidents).toEqual([]);
    const [count] = await p.rows<{ n: string }>('SELECT count() AS n FROM incident_feedback WHERE incident_id = {id:String}', { id: 'inc_1' });
    expect(Number(count!.n)).toBe(1); // B's refused feedback wrote nothing
  });

  it('versions prompts, checks their variables, diffs them and moves tags, per tenant', async () => {
    const v1 = await a('POST', '/v1/prompts/incident-analysis/versions', {
      template: 'Service {{service}}.\n{{context}}\nAnswer in JSON.',
      changelog: 'first',
    });
    expect(v1.status).toBe(201);
    expect(await v1.json()).toMatchObject({ version: 1, variables: ['service', 'context'], parent_version: null });
    const v2 = await a('POST', '/v1/prompts/incident-analysis/versions', {
      template: 'Service {{service}} ({{severity}}).\n{{context}}\nAnswer in JSON only.',
      changelog: 'severity, stricter',
    });
    expect(await v2.json()).toMatchObject({ version: 2, parent_version: 1 });

    const unknown = await a('POST', '/v1/prompts/incident-analysis/versions', { template: '{{context}} {{weather}}', changelog: 'x' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain('{{weather}}');
    expect((await a('POST', '/v1/prompts/incident-analysis/versions', { template: 'no context here {{service}}', changelog: 'x' })).status).toBe(400);
    expect((await a('POST', '/v1/prompts/incident-analysis/versions', { template: '{{context', changelog: 'x' })).status).toBe(400);
    expect((await a('POST', '/v1/prompts/Bad Name/versions', { template: '{{context}}', changelog: 'x' })).status).toBe(400);

    const diff = await a('GET', '/v1/prompts/incident-analysis/diff?from=1&to=2');
    expect(diff.status).toBe(200);
    const text = await diff.text();
    expect(text).toContain('--- incident-analysis@v1');
    expect(text).toContain('+++ incident-analysis@v2');
    expect(text).toContain('-Service {{service}}.');
    expect(text).toContain('+Service {{service}} ({{severity}}).');

    expect((await a('PUT', '/v1/prompts/incident-analysis/tags/production', { version: 1 })).status).toBe(200);
    expect((await a('PUT', '/v1/prompts/incident-analysis/tags/production', { version: 2 })).status).toBe(200);
    expect((await a('PUT', '/v1/prompts/incident-analysis/tags/production', { version: 9 })).status).toBe(404);
    const prompt = (await (await a('GET', '/v1/prompts/incident-analysis')).json()) as { tags: Record<string, number>; versions: unknown[] };
    expect(prompt.tags).toEqual({ production: 2 });
    expect(prompt.versions).toHaveLength(2);

    expect((await b('GET', '/v1/prompts/incident-analysis')).status).toBe(404);
    expect(((await (await b('GET', '/v1/prompts')).json()) as { items: unknown[] }).items).toEqual([]);
    expect((await b('GET', '/v1/prompts/incident-analysis/versions/1')).status).toBe(404);
    // B's first version is B's version 1: numbering is per tenant.
    expect(await (await b('POST', '/v1/prompts/incident-analysis/versions', { template: '{{context}}', changelog: 'b' })).json()).toMatchObject({ version: 1 });
  });

  it('validates experiment splits and reports per variant', async () => {
    const bad = await a('POST', '/v1/experiments', {
      name: 'x',
      prompt: 'incident-analysis',
      variants: [
        { name: 'control', prompt_version: 1, weight: 50 },
        { name: 'b', prompt_version: 2, weight: 40 },
      ],
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('sum to 90');
    expect(
      (
        await a('POST', '/v1/experiments', {
          name: 'x',
          prompt: 'incident-analysis',
          variants: [
            { name: 'control', prompt_version: 1, weight: 50 },
            { name: 'b', prompt_version: 7, weight: 50 },
          ],
        })
      ).status,
    ).toBe(400);

    const created = await a('POST', '/v1/experiments', {
      name: 'stricter',
      prompt: 'incident-analysis',
      variants: [
        { name: 'control', prompt_version: 1, weight: 50 },
        { name: 'strict', prompt_version: 2, weight: 50 },
      ],
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const report = (await (await a('GET', `/v1/experiments/${id}`)).json()) as {
      status: string;
      report: { variants: { variant: string; verdict: string | null }[] };
    };
    expect(report.status).toBe('running');
    expect(report.report.variants.map((v) => v.variant)).toEqual(['control', 'strict']);
    expect(report.report.variants.find((v) => v.variant === 'strict')!.verdict).toBe('not enough data');

    expect((await b('GET', `/v1/experiments/${id}`)).status).toBe(404);
    expect((await b('POST', `/v1/experiments/${id}/stop`)).status).toBe(404);
    expect(((await (await a('POST', `/v1/experiments/${id}/stop`)).json()) as { status: string }).status).toBe('stopped');
  });

  it('keeps alert rules and notification targets per tenant, validated', async () => {
    const rule = { name: 'checkout p99', kind: 'threshold', service: 'checkout', metric: 'latency_ms', field: 'p99', op: 'gt', value: 500, for: '2m' };
    const created = await a('POST', '/v1/alert-rules', rule);
    expect(created.status).toBe(201);
    const { id, ...shown } = (await created.json()) as { id: string; for: string; cooldown: string };
    expect(shown).toMatchObject({ for: '2m', cooldown: '5m' });
    expect((await a('POST', '/v1/alert-rules', { ...rule, op: 'gte' })).status).toBe(400);
    expect((await a('POST', '/v1/alert-rules', { ...rule, for: 'soon' })).status).toBe(400);
    expect((await a('PUT', `/v1/alert-rules/${id}`, { ...rule, value: 800 })).status).toBe(200);
    expect(((await (await a('GET', `/v1/alert-rules/${id}`)).json()) as { value: number }).value).toBe(800);

    expect((await b('GET', `/v1/alert-rules/${id}`)).status).toBe(404);
    expect((await b('PUT', `/v1/alert-rules/${id}`, rule)).status).toBe(404);
    expect((await b('DELETE', `/v1/alert-rules/${id}`)).status).toBe(404);
    expect(((await (await b('GET', '/v1/alert-rules')).json()) as { items: unknown[] }).items).toEqual([]);

    expect((await a('DELETE', `/v1/alert-rules/${id}`)).status).toBe(204);
    expect((await a('GET', `/v1/alert-rules/${id}`)).status).toBe(404);

    // Outgoing URLs: http(s) only, no metadata or link-local addresses, no loopback unless allowed.
    for (const url of ['file:///etc/passwd', 'http://169.254.169.254/latest/meta-data', 'http://127.0.0.1:9/hook', 'http://user:pw@hooks.example.com/x']) {
      const res = await a('POST', '/v1/notification-targets', { name: 'x', kind: 'webhook', url });
      expect(res.status, url).toBe(400);
    }
    expect((await a('POST', '/v1/notification-targets', { name: 'ok', kind: 'webhook', url: 'https://hooks.example.com/autopilot' })).status).toBe(201);
  });

  it('keeps prompts, targets and experiments across a restart', async () => {
    const dataDir = p.config.dataDir;
    const tenant = p.tenants.a;
    await p.stop();
    // A new process's worth of pipeline on the same ClickHouse data.
    p = await startTestPipeline('api-restarted', { processors: ['sink'], env: { AUTOPILOT_DATA_DIR: dataDir } });
    const stores = createStores(p.services.clickhouse!);
    expect(await stores.prompts.tags(tenant, 'incident-analysis')).toEqual({ production: 2 });
    expect((await stores.prompts.tagged(tenant, 'incident-analysis', 'production'))!.template).toContain('({{severity}})');
    expect((await stores.targets.list(tenant)).map((t) => t.definition.name)).toEqual(['ok']);
    expect((await stores.experiments.list(tenant)).map((e) => [e.definition.name, e.status])).toEqual([['stricter', 'stopped']]);
    expect(await stores.rules.list(tenant)).toEqual([]); // deleted stays deleted
  });
});
