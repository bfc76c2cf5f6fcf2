import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobTriggers } from '../../platform/job-triggers.ts';
import type { ExternalSubjectState, ExtractionRow, JobRunRow } from '../../sql/stores/job-results.ts';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { startThrowawayRedis, type ThrowawayRedis } from '../../test/helpers/redis-server.ts';

/**
 * The scheduled-jobs API (gateway/routes/jobs.ts) on in-memory stores: what
 * it shows, refuses and keeps, and that one tenant never reaches another's
 * jobs or what they produced. Every test here fails on the gateway before
 * jobRoutes was mounted (each route answered 404). The SQL behind runs,
 * extractions and external status is tested on ClickHouse in
 * sql/stores/job-results.test.ts; the queue of manual runs in
 * platform/job-triggers.test.ts (here only what the route puts in it, on a
 * redis-server of this file's own: no stack needed).
 */

const token = { Authorization: 'Bearer s3cret-token' };
const common = { timezone: 'UTC', enabled: true, overlap: 'skip', timeout: '5m' };

/** Each kind: a valid body (with a header to hide), and the defaults the API fills in. */
const kinds = {
  http_probe: {
    body: {
      name: 'checkout health',
      schedule: '*/30 * * * * *',
      kind: 'http_probe',
      params: { url: 'https://checkout.example.com/health', service: 'checkout', headers: token },
    },
    defaults: { method: 'GET', timeout: '10s', alert_after: 3, severity: 'critical' },
  },
  status_page: {
    body: {
      name: 'stripe status',
      schedule: '*/2 * * * *',
      timezone: 'Europe/Paris',
      kind: 'status_page',
      params: { provider: 'Stripe', url: 'https://status.stripe.example.com', headers: token },
    },
    defaults: { format: 'auto', dependents: [], timeout: '15s' },
  },
  scrape: {
    body: { name: 'docs crawl', schedule: '@daily', kind: 'scrape', params: { start_urls: ['https://docs.example.com/'], headers: token } },
    defaults: { max_depth: 1, max_pages: 50, same_domain: true, rate_per_domain: 2, concurrency: 2, timeout: '15s' },
  },
  extract: {
    body: {
      name: 'price watch',
      schedule: '0 9 * * 1-5',
      kind: 'extract',
      params: { url: 'https://shop.example.com/p/1', schema: { type: 'object', properties: { price: { type: 'number' } } }, headers: token },
    },
    defaults: { max_chars: 20_000, timeout: '15s' },
  },
} as const;
const probe = kinds.http_probe.body;

type Shown = { id: string; enabled: boolean; created_at: number; updated_at: number; params: Record<string, unknown> } & Record<string, unknown>;

async function created(t: ReturnType<typeof routeTestApp>, body: unknown = probe): Promise<Shown> {
  const res = await t.a('POST', '/v1/jobs', body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Shown;
}

describe('/v1/jobs', () => {
  it.each(Object.entries(kinds))('creates a %s job: defaults filled, header values shown as *** and kept for the runs', async (_kind, { body, defaults }) => {
    const t = routeTestApp();
    const job = await created(t, body);
    const { id, created_at, updated_at, ...shown } = job;
    expect(shown).toEqual({ ...common, ...body, params: { ...body.params, ...defaults, headers: { Authorization: '***' } } });
    expect(created_at).toBe(updated_at);

    expect(await (await t.a('GET', `/v1/jobs/${id}`)).json()).toEqual(job);
    expect(await (await t.a('GET', '/v1/jobs')).json()).toEqual({ items: [job] });
    const [stored] = await t.memory.jobs.list(TEST_TENANTS.a);
    expect(stored!.definition.params.headers).toEqual(token);
  });

  it('lists the kinds at /v1/jobs/kinds, which is no job id', async () => {
    const t = routeTestApp();
    expect(await (await t.a('GET', '/v1/jobs/kinds')).json()).toEqual({ kinds: ['http_probe', 'status_page', 'scrape', 'extract'] });
  });

  it.each([
    ['a bad cron expression', { ...probe, schedule: '61 * * * *' }, ['schedule']],
    ['a cron with 3 fields', { ...probe, schedule: '* * *' }, ['schedule']],
    ['an unknown time zone', { ...probe, timezone: 'Mars/Olympus' }, ['timezone']],
    ['an unknown kind', { ...probe, kind: 'ftp_probe' }, ['kind']],
    ['an unknown key', { ...probe, colour: 'red' }, ['']],
    ['an unknown key in params', { ...probe, params: { ...probe.params, colour: 'red' } }, ['params']],
    ['a loopback URL', { ...probe, params: { ...probe.params, url: 'http://127.0.0.1:8080/health' } }, ['params.url']],
    ['a loopback start URL', { ...kinds.scrape.body, params: { start_urls: ['https://docs.example.com/', 'http://localhost/x'] } }, ['params.start_urls.1']],
    ['a header value sent back as shown', { ...probe, params: { ...probe.params, headers: { Authorization: '***' } } }, ['params.headers.Authorization']],
    ['a missing name and schedule', { kind: 'http_probe', params: probe.params }, ['name', 'schedule']],
  ])('refuses %s with 400 bad_request saying where, and keeps nothing', async (_what, body, paths) => {
    const t = routeTestApp();
    const error = await expectError(await t.a('POST', '/v1/jobs', body), 400, 'bad_request');
    expect((error.details as { path: string }[]).map((d) => d.path)).toEqual(paths);
    expect(await t.memory.jobs.list(TEST_TENANTS.a)).toEqual([]);
  });

  it('takes a loopback URL where the deployment allows loopback targets', async () => {
    const t = routeTestApp({ allowLoopbackTargets: true });
    const job = await created(t, { ...probe, params: { ...probe.params, url: 'http://127.0.0.1:8080/health' } });
    expect(job.params.url).toBe('http://127.0.0.1:8080/health');
  });

  it('refuses a replacement that sends the hidden header back, and keeps the job as it was', async () => {
    const t = routeTestApp();
    const { id, created_at: _, updated_at: __, ...shown } = await created(t);
    const error = await expectError(await t.a('PUT', `/v1/jobs/${id}`, shown), 400, 'bad_request');
    expect(error.details).toEqual([{ path: 'params.headers.Authorization', message: expect.stringContaining('hidden form') }]);
    expect((await t.memory.jobs.get(TEST_TENANTS.a, id))!.definition.params.headers).toEqual(token);
  });

  it('pauses and resumes: enabled flips and updated_at moves; asking for the state it is in writes nothing', async () => {
    const t = routeTestApp();
    const job = await created(t);
    const stored = async () => (await t.memory.jobs.get(TEST_TENANTS.a, job.id))!;

    const resumed = (await (await t.a('POST', `/v1/jobs/${job.id}/resume`)).json()) as Shown;
    expect(resumed).toEqual(job); // already enabled: the same job, the same updated_at

    const res = await t.a('POST', `/v1/jobs/${job.id}/pause`);
    expect(res.status).toBe(200);
    const paused = (await res.json()) as Shown;
    expect(paused).toEqual({ ...job, enabled: false, updated_at: expect.any(Number) });
    expect(paused.updated_at).toBeGreaterThan(job.updated_at);
    expect(paused.params.headers).toEqual({ Authorization: '***' });
    // The stored job keeps its real header value: a pause must not write the shown form back.
    expect((await stored()).definition).toMatchObject({ enabled: false, params: { headers: token } });

    expect(await (await t.a('POST', `/v1/jobs/${job.id}/pause`)).json()).toEqual(paused);
    expect((await stored()).updated_at).toBe(paused.updated_at);

    const again = (await (await t.a('POST', `/v1/jobs/${job.id}/resume`)).json()) as Shown;
    expect(again.enabled).toBe(true);
    expect(again.updated_at).toBeGreaterThan(paused.updated_at);
    expect((await stored()).definition).toMatchObject({ enabled: true, params: { headers: token } });
  });

  it('answers a manual run with 503 unavailable when the gateway has no Redis, and 404 for a job it does not have', async () => {
    const t = routeTestApp();
    const job = await created(t);
    const error = await expectError(await t.a('POST', `/v1/jobs/${job.id}/trigger`), 503, 'unavailable');
    expect(error.message).toContain('Redis');
    await expectError(await t.a('POST', '/v1/jobs/no-such-job/trigger'), 404, 'not_found');
  });
});

const run = (job_id: string, started_at: number, outcome: string): JobRunRow => ({
  run_id: `run-${started_at}`,
  job_id,
  job_name: 'checkout health',
  kind: 'http_probe',
  trigger: 'schedule',
  scheduled_at: started_at,
  started_at,
  ended_at: started_at + 120,
  outcome,
  error: outcome === 'failure' ? 'HTTP 503' : null,
  items: 1,
  details: { status: outcome === 'failure' ? 503 : 200 },
  scheduler: 'scheduler-1',
});

describe('POST /v1/jobs/{id}/trigger with Redis', () => {
  let redis: ThrowawayRedis;
  beforeAll(async () => {
    redis = await startThrowawayRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it("asks the schedulers for a run of the tenant's job, 202 with the run's id; another tenant's job is a 404 and asks for nothing", async () => {
    const triggers = new JobTriggers(redis.client());
    const t = routeTestApp({ triggers });
    const job = await created(t);
    const before = Date.now();

    const res = await t.a('POST', `/v1/jobs/${job.id}/trigger`);
    expect(res.status).toBe(202);
    const answer = (await res.json()) as { run_id: string; job_id: string; requested_at: number };
    expect(answer).toEqual({ run_id: expect.any(String), job_id: job.id, requested_at: expect.any(Number) });
    expect(answer.requested_at).toBeGreaterThanOrEqual(before);
    // What a scheduler reads: the run id it will record is the one the API answered with.
    expect(await new JobTriggers(redis.client()).waiting()).toEqual([
      { request_id: answer.run_id, tenant: TEST_TENANTS.a, job_id: job.id, requested_at: answer.requested_at },
    ]);

    await expectError(await t.b('POST', `/v1/jobs/${job.id}/trigger`), 404, 'not_found');
    await expectError(await t.a('POST', '/v1/jobs/no-such-job/trigger'), 404, 'not_found');
    expect(await triggers.waiting()).toHaveLength(1);
  });
});

describe('/v1/jobs/{id}/runs', () => {
  const T0 = Date.parse('2026-12-01T10:00:00Z');

  it("shows a job's runs newest first with its counts by outcome, filtered and paged", async () => {
    const t = routeTestApp();
    const job = await created(t);
    const other = await created(t, kinds.scrape.body);
    const outcomes = ['success', 'failure', 'success', 'timeout', 'skipped', 'failure'];
    // Put in out of order: the answer's order is the API's, not the insertion's.
    for (const i of [3, 0, 5, 1, 4, 2]) t.memory.jobResults.runRows.push({ ...run(job.id, T0 + i * 60_000, outcomes[i]!), tenant: TEST_TENANTS.a });
    t.memory.jobResults.runRows.push({ ...run(other.id, T0 + 10 * 60_000, 'success'), tenant: TEST_TENANTS.a });

    const all = (await (await t.a('GET', `/v1/jobs/${job.id}/runs`)).json()) as { job_id: string; counts: unknown; items: JobRunRow[] };
    expect(all.job_id).toBe(job.id);
    expect(all.items.map((r) => r.started_at)).toEqual([5, 4, 3, 2, 1, 0].map((i) => T0 + i * 60_000));
    expect(all.items[0]).toEqual(run(job.id, T0 + 5 * 60_000, 'failure'));
    expect(all.counts).toEqual({ total: 6, success: 2, failure: 2, timeout: 1, skipped: 1, last_run_at: T0 + 5 * 60_000, last_outcome: 'failure' });

    const failures = (await (await t.a('GET', `/v1/jobs/${job.id}/runs?outcome=failure`)).json()) as typeof all;
    expect(failures.items.map((r) => r.started_at)).toEqual([T0 + 5 * 60_000, T0 + 60_000]);
    expect(failures.counts).toEqual(all.counts); // counts are the job's, whatever the page shows

    const page = (await (await t.a('GET', `/v1/jobs/${job.id}/runs?limit=2&before=${T0 + 3 * 60_000}`)).json()) as typeof all;
    expect(page.items.map((r) => r.started_at)).toEqual([T0 + 2 * 60_000, T0 + 60_000]);
  });

  it('answers a job that never ran with no runs and zero counts', async () => {
    const t = routeTestApp();
    const job = await created(t);
    expect(await (await t.a('GET', `/v1/jobs/${job.id}/runs`)).json()).toEqual({
      job_id: job.id,
      counts: { total: 0, success: 0, failure: 0, timeout: 0, skipped: 0, last_run_at: null, last_outcome: null },
      items: [],
    });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=ten', 'limit'],
    ['outcome=exploded', 'outcome'],
    ['before=-5', 'before'],
    ['page=2', ''],
  ])('refuses ?%s with 400 bad_request naming %j', async (query, path) => {
    const t = routeTestApp();
    const job = await created(t);
    const error = await expectError(await t.a('GET', `/v1/jobs/${job.id}/runs?${query}`), 400, 'bad_request');
    expect((error.details as { path: string }[]).map((d) => d.path)).toEqual([path]);
  });
});

const extraction = (job_id: string, at: number, status: string): ExtractionRow => ({
  extraction_id: `ex-${at}`,
  job_id,
  run_id: `run-${at}`,
  url: 'https://shop.example.com/p/1',
  model: 'qwen2.5:0.5b',
  status,
  result: status === 'ok' ? { price: 12.5 } : null,
  quality: status === 'ok' ? 0.9 : null,
  quality_details: { fields: 1 },
  raw_answer: '{"price":12.5}',
  error: status === 'ok' ? null : 'did not match the schema',
  duration_ms: 850,
  at,
});

const subject = (provider: string, subject_id: string, degraded: boolean): ExternalSubjectState => ({
  provider,
  subject_kind: degraded ? 'incident' : 'component',
  subject_id,
  subject_name: `${provider} ${subject_id}`,
  status: degraded ? 'investigating' : 'operational',
  degraded,
  impact: degraded ? 'major' : 'none',
  message: degraded ? 'Elevated API errors' : '',
  url: `https://status.${provider.toLowerCase()}.example.com`,
  since: Date.parse('2026-12-01T09:00:00Z'),
  services: ['checkout'],
});

describe('/v1/extractions and /v1/external-status', () => {
  it('lists extractions newest first, by job and status', async () => {
    const t = routeTestApp();
    const rows = [extraction('job-1', 1000, 'ok'), extraction('job-1', 3000, 'invalid'), extraction('job-2', 2000, 'ok')];
    for (const r of rows) t.memory.jobResults.extractionRows.push({ ...r, tenant: TEST_TENANTS.a });
    const ids = async (query: string) =>
      ((await (await t.a('GET', `/v1/extractions${query}`)).json()) as { items: ExtractionRow[] }).items.map((r) => r.extraction_id);

    expect(await (await t.a('GET', '/v1/extractions')).json()).toEqual({ items: [rows[1], rows[2], rows[0]] });
    expect(await ids('?job_id=job-1')).toEqual(['ex-3000', 'ex-1000']);
    expect(await ids('?status=ok')).toEqual(['ex-2000', 'ex-1000']);
    expect(await ids('?limit=1&before=3000')).toEqual(['ex-2000']);
    const error = await expectError(await t.a('GET', '/v1/extractions?status=great'), 400, 'bad_request');
    expect((error.details as { path: string }[]).map((d) => d.path)).toEqual(['status']);
  });

  it('groups the watched subjects by provider, a provider degraded when any of its subjects is', async () => {
    const t = routeTestApp();
    const subjects = [subject('Stripe', 'api', false), subject('Stripe', 'inc-1', true), subject('GitHub', 'git', false)];
    for (const s of subjects) t.memory.jobResults.subjects.push({ ...s, tenant: TEST_TENANTS.a });
    const without = ({ provider: _, ...s }: ExternalSubjectState) => s;

    expect(await (await t.a('GET', '/v1/external-status')).json()).toEqual({
      providers: [
        { provider: 'Stripe', degraded: true, subjects: [without(subjects[0]!), without(subjects[1]!)] },
        { provider: 'GitHub', degraded: false, subjects: [without(subjects[2]!)] },
      ],
    });
    expect(await (await t.a('GET', '/v1/external-status?provider=GitHub')).json()).toEqual({
      providers: [{ provider: 'GitHub', degraded: false, subjects: [without(subjects[2]!)] }],
    });
    await expectError(await t.a('GET', '/v1/external-status?vendor=GitHub'), 400, 'bad_request');
  });
});

describe('tenants and keys', () => {
  it("gives tenant b a 404 for tenant a's job on every route, and changes nothing of it", async () => {
    const t = routeTestApp();
    const job = await created(t);
    const routes: [string, string, unknown?][] = [
      ['GET', `/v1/jobs/${job.id}`],
      ['PUT', `/v1/jobs/${job.id}`, { ...probe, name: 'taken over' }],
      ['DELETE', `/v1/jobs/${job.id}`],
      ['POST', `/v1/jobs/${job.id}/pause`],
      ['POST', `/v1/jobs/${job.id}/resume`],
      ['POST', `/v1/jobs/${job.id}/trigger`],
      ['GET', `/v1/jobs/${job.id}/runs`],
    ];
    for (const [method, path, body] of routes) await expectError(await t.b(method, path, body), 404, 'not_found');
    expect(await (await t.b('GET', '/v1/jobs')).json()).toEqual({ items: [] });
    expect(await (await t.a('GET', `/v1/jobs/${job.id}`)).json()).toEqual(job);
  });

  it("shows tenant b none of tenant a's runs, extractions or status pages", async () => {
    const t = routeTestApp();
    const jobA = await created(t);
    const jobB = (await (await t.b('POST', '/v1/jobs', probe)).json()) as Shown;
    t.memory.jobResults.runRows.push({ ...run(jobA.id, 1000, 'success'), tenant: TEST_TENANTS.a });
    // A row of tenant a's that names b's job id: still a's, never b's.
    t.memory.jobResults.runRows.push({ ...run(jobB.id, 2000, 'failure'), tenant: TEST_TENANTS.a });
    t.memory.jobResults.extractionRows.push({ ...extraction(jobA.id, 1000, 'ok'), tenant: TEST_TENANTS.a });
    t.memory.jobResults.subjects.push({ ...subject('Stripe', 'inc-1', true), tenant: TEST_TENANTS.a });

    const runsOfB = (await (await t.b('GET', `/v1/jobs/${jobB.id}/runs`)).json()) as { counts: { total: number }; items: unknown[] };
    expect(runsOfB.items).toEqual([]);
    expect(runsOfB.counts.total).toBe(0);
    expect(await (await t.b('GET', '/v1/extractions')).json()).toEqual({ items: [] });
    expect(await (await t.b('GET', `/v1/extractions?job_id=${jobA.id}`)).json()).toEqual({ items: [] });
    expect(await (await t.b('GET', '/v1/external-status')).json()).toEqual({ providers: [] });
    // And tenant a sees its own.
    expect(((await (await t.a('GET', '/v1/extractions')).json()) as { items: unknown[] }).items).toHaveLength(1);
    expect(((await (await t.a('GET', '/v1/external-status')).json()) as { providers: unknown[] }).providers).toHaveLength(1);
  });

  it.each([
    ['GET', '/v1/jobs'],
    ['POST', '/v1/jobs'],
    ['GET', '/v1/jobs/kinds'],
    ['GET', '/v1/jobs/some-id'],
    ['POST', '/v1/jobs/some-id/pause'],
    ['POST', '/v1/jobs/some-id/resume'],
    ['POST', '/v1/jobs/some-id/trigger'],
    ['GET', '/v1/jobs/some-id/runs'],
    ['GET', '/v1/extractions'],
    ['GET', '/v1/external-status'],
  ])('refuses %s %s without a key: 401', async (method, path) => {
    const t = routeTestApp();
    await expectError(await t.anonymous(method, path, method === 'POST' ? probe : undefined), 401, 'unauthorized');
    expect(await t.memory.jobs.list(TEST_TENANTS.a)).toEqual([]);
  });
});
