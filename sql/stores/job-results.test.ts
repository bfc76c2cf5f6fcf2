import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '../client.ts';
import { migrate } from '../migrate.ts';
import { JobResultStore } from './job-results.ts';

/**
 * What the jobs API reads of what jobs produced (migrations 0035–0037), on
 * the embedded ClickHouse: rows put in as the sink writes them (JSONEachRow,
 * times in epoch ms, replays included), read back through the store. Times
 * are near now: the tables' TTLs and the "resolved for a day" rule are
 * measured from the clock.
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// Whole seconds, so every offset below is a whole millisecond count that DateTime64(3) keeps exactly.
const NOW = Math.floor(Date.now() / 1000) * 1000;

let ch: ClickHouseClient;
let store: JobResultStore;
let offset = 0;

beforeAll(async () => {
  ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-job-results-')) });
  await migrate(ch);
  store = new JobResultStore(ch);
});
afterAll(async () => ch?.close());

const insert = (table: string, values: Record<string, unknown>[]) =>
  ch.insert({ table, format: 'JSONEachRow', values: values.map((v) => ({ kafka_partition: 0, kafka_offset: offset++, ...v })) });

describe('JobResultStore.runs and counts', () => {
  const run = (tenant: string, job_id: string, started_at: number, outcome: string, over: Record<string, unknown> = {}) => ({
    tenant,
    job_id,
    started_at,
    run_id: `run-${job_id}-${started_at}`,
    job_name: 'checkout health',
    kind: 'http_probe',
    trigger: 'schedule',
    scheduled_at: started_at - 5,
    ended_at: started_at + 250,
    outcome,
    error: outcome === 'success' ? null : `probe ${outcome}`,
    items: 1,
    details: JSON.stringify({ status: outcome === 'success' ? 200 : 503 }),
    scheduler: 'scheduler-1',
    ...over,
  });
  // j1 of tenant t1: six runs a minute apart (i = 0 oldest), outcomes below.
  const outcomes = ['success', 'failure', 'success', 'timeout', 'skipped', 'failure'];
  const at = (i: number) => NOW - HOUR + i * MIN;

  beforeAll(async () => {
    await insert('job_runs', [
      ...outcomes.map((o, i) => run('t1', 'j1', at(i), o)),
      // A replayed record: the same run again, one row under FINAL.
      run('t1', 'j1', at(5), 'failure'),
      run('t1', 'j2', at(2), 'success', { kind: 'scrape', items: 12, details: 'not json' }),
      // Tenant t2's runs under the same job id, later than all of t1's.
      run('t2', 'j1', at(9), 'success'),
      run('t2', 'j1', at(8), 'success'),
    ]);
  });

  it("reads a job's runs newest first, times in epoch ms and details parsed", async () => {
    const runs = await store.runs('t1', 'j1', { limit: 50 });
    expect(runs.map((r) => r.started_at)).toEqual([5, 4, 3, 2, 1, 0].map(at));
    const { tenant: _, ...newest } = run('t1', 'j1', at(5), 'failure');
    expect(runs[0]).toEqual({ ...newest, details: { status: 503 } });
    expect(runs[3]!.error).toBeNull(); // at(2), a success
    expect((await store.runs('t1', 'j2', { limit: 50 }))[0]).toMatchObject({ items: 12, details: { unparsed: 'not json' } });
  });

  it('pages back with `before` (a started_at) and filters by outcome', async () => {
    const first = await store.runs('t1', 'j1', { limit: 2 });
    expect(first.map((r) => r.started_at)).toEqual([at(5), at(4)]);
    const second = await store.runs('t1', 'j1', { limit: 2, before: first[1]!.started_at });
    expect(second.map((r) => r.started_at)).toEqual([at(3), at(2)]);
    const last = await store.runs('t1', 'j1', { limit: 2, before: second[1]!.started_at });
    expect(last.map((r) => r.started_at)).toEqual([at(1), at(0)]);
    expect(await store.runs('t1', 'j1', { limit: 2, before: at(0) })).toEqual([]);

    expect((await store.runs('t1', 'j1', { limit: 50, outcome: 'failure' })).map((r) => r.started_at)).toEqual([at(5), at(1)]);
    expect((await store.runs('t1', 'j1', { limit: 50, outcome: 'success', before: at(2) })).map((r) => r.started_at)).toEqual([at(0)]);
  });

  it('counts runs by outcome per job, with the last run, per tenant', async () => {
    const counts = await store.counts('t1');
    expect([...counts.keys()].sort()).toEqual(['j1', 'j2']);
    expect(counts.get('j1')).toEqual({ total: 6, success: 2, failure: 2, timeout: 1, skipped: 1, last_run_at: at(5), last_outcome: 'failure' });
    expect(counts.get('j2')).toEqual({ total: 1, success: 1, failure: 0, timeout: 0, skipped: 0, last_run_at: at(2), last_outcome: 'success' });
    expect([...(await store.counts('t1', ['j2'])).keys()]).toEqual(['j2']);
    expect((await store.counts('t2')).get('j1')).toMatchObject({ total: 2, last_run_at: at(9) });
    expect((await store.counts('t2', ['j2'])).size).toBe(0);
  });

  it("never shows one tenant's runs to another", async () => {
    expect((await store.runs('t2', 'j1', { limit: 50 })).map((r) => r.started_at)).toEqual([at(9), at(8)]);
    expect(await store.runs('t3', 'j1', { limit: 50 })).toEqual([]);
    expect((await store.counts('t3')).size).toBe(0);
  });
});

describe('JobResultStore.extractions', () => {
  const extraction = (tenant: string, job_id: string, at: number, status: string, over: Record<string, unknown> = {}) => ({
    tenant,
    job_id,
    at,
    extraction_id: `ex-${job_id}-${at}`,
    run_id: `run-${at}`,
    url: 'https://shop.example.com/p/1',
    model: 'qwen2.5:0.5b',
    status,
    result: status === 'ok' ? JSON.stringify({ price: 12.5, tags: ['sale'] }) : null,
    quality: status === 'ok' ? 0.75 : null,
    quality_details: JSON.stringify({ filled: 2, of: 2 }),
    raw_answer: status === 'model_unavailable' ? null : '{"price":12.5}',
    source_text: 'Price: 12.50',
    error: status === 'ok' ? null : `${status}!`,
    duration_ms: 812.5,
    ...over,
  });
  const at = (i: number) => NOW - 2 * HOUR + i * MIN;

  beforeAll(async () => {
    await insert('extractions', [
      extraction('t1', 'j1', at(0), 'ok'),
      extraction('t1', 'j1', at(1), 'invalid'),
      extraction('t1', 'j2', at(2), 'ok', { model: null }),
      extraction('t1', 'j1', at(3), 'model_unavailable'),
      extraction('t1', 'j1', at(3), 'model_unavailable'), // replayed
      extraction('t2', 'j1', at(4), 'ok'),
    ]);
  });

  it('reads extractions newest first, the result and quality details parsed', async () => {
    const rows = await store.extractions('t1', { limit: 50 });
    expect(rows.map((r) => [r.job_id, r.at, r.status])).toEqual([
      ['j1', at(3), 'model_unavailable'],
      ['j2', at(2), 'ok'],
      ['j1', at(1), 'invalid'],
      ['j1', at(0), 'ok'],
    ]);
    const { tenant: _, source_text: __, ...written } = extraction('t1', 'j1', at(0), 'ok');
    expect(rows[3]).toEqual({ ...written, result: { price: 12.5, tags: ['sale'] }, quality_details: { filled: 2, of: 2 } });
    expect(rows[0]).toMatchObject({ result: null, quality: null, raw_answer: null, error: 'model_unavailable!' });
    expect(rows[1]!.model).toBeNull();
  });

  it('filters by job, status and `before`, and keeps to the tenant', async () => {
    const ats = async (o: Parameters<JobResultStore['extractions']>[1], tenant = 't1') => (await store.extractions(tenant, o)).map((r) => r.at);
    expect(await ats({ limit: 50, jobId: 'j1' })).toEqual([at(3), at(1), at(0)]);
    expect(await ats({ limit: 50, status: 'ok' })).toEqual([at(2), at(0)]);
    expect(await ats({ limit: 50, jobId: 'j1', status: 'ok' })).toEqual([at(0)]);
    expect(await ats({ limit: 1, before: at(3) })).toEqual([at(2)]);
    expect(await ats({ limit: 50 }, 't2')).toEqual([at(4)]);
    expect(await ats({ limit: 50 }, 't3')).toEqual([]);
  });
});

describe('JobResultStore.externalStatus', () => {
  type Change = { provider?: string; kind?: string; name?: string; to: string; degraded: boolean; services?: string[]; tenant?: string; message?: string };
  /** One change of a subject as the sink writes it: a row per dependent service ('' when none). */
  const change = (subjectId: string, at: number, c: Change) =>
    (c.services ?? ['']).map((service) => ({
      tenant: c.tenant ?? 't1',
      provider: c.provider ?? 'Stripe',
      subject_kind: c.kind ?? 'component',
      subject_id: subjectId,
      at,
      service,
      change_id: `${subjectId}-${at}`,
      job_id: 'status-job',
      subject_name: c.name ?? subjectId.toUpperCase(),
      from_status: null,
      to_status: c.to,
      degraded: c.degraded,
      impact: c.degraded ? 'major' : 'none',
      message: c.message ?? '',
      url: `https://status.${(c.provider ?? 'Stripe').toLowerCase()}.example.com`,
    }));

  beforeAll(async () => {
    await insert('external_status_changes', [
      // A component that went down for checkout and payments, renamed, and came back for payments only.
      ...change('api', NOW - 3 * HOUR, { name: 'API (old name)', to: 'major_outage', degraded: true, services: ['checkout', 'payments'] }),
      ...change('api', NOW - HOUR, { name: 'API', to: 'operational', degraded: false, services: ['payments'] }),
      ...change('api', NOW - HOUR, { name: 'API', to: 'operational', degraded: false, services: ['payments'] }), // replayed
      // A component resolved two days ago: a component always shows its state.
      ...change('dash', NOW - 3 * DAY, { name: 'Dashboard', to: 'partial_outage', degraded: true, services: ['checkout'] }),
      ...change('dash', NOW - 2 * DAY, { name: 'Dashboard', to: 'operational', degraded: false, services: ['checkout'] }),
      // Incidents: one resolved two days ago (hidden), one resolved two hours ago (shown), one still open for three days.
      ...change('inc-old', NOW - 3 * DAY, { kind: 'incident', to: 'investigating', degraded: true }),
      ...change('inc-old', NOW - 2 * DAY, { kind: 'incident', to: 'resolved', degraded: false }),
      ...change('inc-recent', NOW - 5 * HOUR, { kind: 'incident', to: 'investigating', degraded: true }),
      ...change('inc-recent', NOW - 2 * HOUR, { kind: 'incident', to: 'resolved', degraded: false, message: 'Fixed' }),
      ...change('inc-open', NOW - 3 * DAY, { kind: 'incident', to: 'identified', degraded: true, services: ['checkout'] }),
      // A maintenance finished two days ago: hidden as a resolved incident is.
      ...change('mnt-old', NOW - 3 * DAY, { kind: 'maintenance', to: 'in_progress', degraded: true }),
      ...change('mnt-old', NOW - 2 * DAY, { kind: 'maintenance', to: 'completed', degraded: false }),
      // Another provider, with no dependent service.
      ...change('git', NOW - 10 * MIN, { provider: 'GitHub', name: 'Git Operations', to: 'degraded_performance', degraded: true }),
      // Tenant t2 watches the same Stripe component: it saw t1's last change at the same moment, for its own
      // service, then saw the component go down. Neither its state nor its services are t1's.
      ...change('api', NOW - HOUR, { tenant: 't2', name: 'API', to: 'operational', degraded: false, services: ['billing'] }),
      ...change('api', NOW - 5 * MIN, { tenant: 't2', name: 'API', to: 'major_outage', degraded: true, services: ['billing'] }),
    ]);
  });

  it("shows each subject's latest state and the services of its latest change: providers by name, degraded first", async () => {
    const subjects = await store.externalStatus('t1');
    expect(subjects.map((s) => [s.provider, s.subject_kind, s.subject_id, s.status, s.degraded, s.services, s.since])).toEqual([
      ['GitHub', 'component', 'git', 'degraded_performance', true, [], NOW - 10 * MIN],
      ['Stripe', 'incident', 'inc-open', 'identified', true, ['checkout'], NOW - 3 * DAY],
      ['Stripe', 'component', 'api', 'operational', false, ['payments'], NOW - HOUR],
      ['Stripe', 'component', 'dash', 'operational', false, ['checkout'], NOW - 2 * DAY],
      ['Stripe', 'incident', 'inc-recent', 'resolved', false, [], NOW - 2 * HOUR],
    ]);
    expect(subjects[2]).toEqual({
      provider: 'Stripe',
      subject_kind: 'component',
      subject_id: 'api',
      subject_name: 'API',
      status: 'operational',
      degraded: false,
      impact: 'none',
      message: '',
      url: 'https://status.stripe.example.com',
      since: NOW - HOUR,
      services: ['payments'],
    });
    expect(subjects[4]!.message).toBe('Fixed');
  });

  it('filters by provider and keeps to the tenant', async () => {
    expect((await store.externalStatus('t1', 'GitHub')).map((s) => s.subject_id)).toEqual(['git']);
    expect(await store.externalStatus('t1', 'Nobody')).toEqual([]);
    expect(await store.externalStatus('t2')).toEqual([
      expect.objectContaining({ provider: 'Stripe', subject_id: 'api', status: 'major_outage', degraded: true, services: ['billing'], since: NOW - 5 * MIN }),
    ]);
    expect(await store.externalStatus('t3')).toEqual([]);
  });
});
