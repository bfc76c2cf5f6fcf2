import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unavailable } from '../../../lib/errors.ts';
import type { ExternalStatusChange } from '../../../schemas/topics.ts';
import { testJobContext } from '../../../test/helpers/job-context.ts';
import { brief, servicesOf, statusJob } from './fixtures/jobs.ts';
import { fixture, type StatusSource, startStatusSource } from './fixtures/status-source.ts';
import { runStatusPage, type StatusPageState } from './run.ts';
import { parseStatuspage, statuspageUrl } from './statuspage.ts';

/*
 * Before this folder there was no status_page runner: every case here failed
 * on its import. Each one pins a promise of the kind: a change becomes
 * records for the right services, nothing else does, and the state moves
 * only once the records are out.
 */

const SUMMARY = '/api/v2/summary.json';
const JSON_TYPE = 'application/json; charset=utf-8';

let source: StatusSource;
beforeAll(async () => {
  source = await startStatusSource();
});
afterAll(async () => source?.close());

const DEPENDENTS = [
  { service: 'checkout', components: ['Card Payments'] },
  { service: 'billing', components: ['payments'] }, // the group, written in another case
  { service: 'admin-ui', components: ['Dashboard'] },
  { service: 'reports' }, // no list: everything the page says
];

describe('Statuspage summary.json', () => {
  it('reads indicator, components without group containers, unresolved incidents and maintenances', () => {
    const s = parseStatuspage(fixture('statuspage-degraded.json'));
    expect(s.page).toEqual({ status: 'minor', description: 'Partially Degraded Service' });
    expect(s.components.map((c) => c.name)).toEqual(['API', 'Card Payments', 'Payouts', 'Dashboard', 'Webhooks']);
    expect(s.components.find((c) => c.name === 'Card Payments')).toMatchObject({ status: 'degraded_performance', group: 'Payments' });
    expect(s.incidents).toEqual([
      {
        id: 'p9zbm0xh3c4r',
        name: 'Elevated error rates for card payments',
        status: 'investigating',
        impact: 'minor',
        updated_at: '2026-12-02T10:05:51.862Z',
        url: 'https://stspg.io/p9zbm0xh',
        message: 'We are investigating elevated error rates on card authorisations in the EU region.',
        components: ['Card Payments', 'Payments'],
      },
    ]);
    expect(s.maintenances.map((m) => [m.name, m.status, m.impact])).toEqual([['Dashboard database upgrade', 'scheduled', 'maintenance']]);
  });

  it('finds the summary from a page base URL', () => {
    expect(statuspageUrl('https://status.examplepay.com')).toBe('https://status.examplepay.com/api/v2/summary.json');
    expect(statuspageUrl('https://status.examplepay.com/')).toBe('https://status.examplepay.com/api/v2/summary.json');
    expect(statuspageUrl('https://status.examplepay.com/api/v2/summary.json')).toBe('https://status.examplepay.com/api/v2/summary.json');
  });
});

describe('status_page job on a Statuspage that changes', () => {
  const ctx = testJobContext({ tenant: 'acme', jobId: 'job-sp' });
  // The page's base URL: the runner asks for /api/v2/summary.json itself.
  const job = () => statusJob({ url: source.url('/'), format: 'statuspage', dependents: DEPENDENTS });
  const run = async () => {
    const before = ctx.publisher.records('externalStatus').length;
    const result = await runStatusPage(job(), ctx);
    return { result, records: ctx.publisher.records('externalStatus').slice(before) };
  };

  it('first run: every subject as a change from null, none of them degraded, to its dependents', async () => {
    source.serve(SUMMARY, fixture('statuspage-operational.json'), JSON_TYPE);
    const { result, records } = await run();
    expect(source.requests.at(-1)!.path).toBe(SUMMARY);
    expect(records.every((r) => r.from_status === null && !r.degraded)).toBe(true);
    expect(records.every((r) => r.tenant === 'acme' && r.job_id === 'job-sp' && r.provider === 'ExamplePay')).toBe(true);
    expect(servicesOf(records, 'page', 'ExamplePay')).toEqual(['reports']);
    expect(servicesOf(records, 'component', 'Card Payments')).toEqual(['billing', 'checkout', 'reports']);
    expect(servicesOf(records, 'component', 'Payouts')).toEqual(['billing', 'reports']);
    expect(servicesOf(records, 'component', 'Webhooks')).toEqual(['reports']);
    expect(servicesOf(records, 'maintenance', 'Dashboard database upgrade')).toEqual(['admin-ui', 'reports']);
    // The group container is not a component of its own.
    expect(records.some((r) => r.subject_kind === 'component' && r.subject_name === 'Payments')).toBe(false);
    expect(records).toHaveLength(12);
    expect(result).toEqual({
      items: 12,
      details: { status: 200, not_modified: false, format: 'statuspage', components: 5, incidents: 0, maintenances: 1, changes: 7 },
    });
    expect((ctx.saved() as StatusPageState).seen?.etag).toMatch(/^"/);
  });

  it('operational → degraded: the component and the incident, degraded, for the services that depend on them', async () => {
    source.serve(SUMMARY, fixture('statuspage-degraded.json'), JSON_TYPE);
    const { result, records } = await run();
    // The validator of the first read went back (the page had changed, so the answer is a 200).
    expect(source.requests.at(-1)!.headers['if-none-match']).toMatch(/^"/);
    expect(records.map(brief).sort()).toEqual(
      [
        'page:ExamplePay none→minor @reports',
        'component:Card Payments operational→degraded_performance @checkout',
        'component:Card Payments operational→degraded_performance @billing',
        'component:Card Payments operational→degraded_performance @reports',
        'incident:Elevated error rates for card payments null→investigating @checkout',
        'incident:Elevated error rates for card payments null→investigating @billing',
        'incident:Elevated error rates for card payments null→investigating @reports',
      ].sort(),
    );
    expect(records.every((r) => r.degraded)).toBe(true);
    const card = records.find((r) => r.subject_name === 'Card Payments')!;
    expect(card).toMatchObject({ impact: 'minor', subject_id: 'kf3qk9yx7c2m', url: source.url('/') });
    const incident = records.find((r) => r.subject_kind === 'incident')!;
    expect(incident).toMatchObject({
      impact: 'minor',
      subject_id: 'p9zbm0xh3c4r',
      url: 'https://stspg.io/p9zbm0xh',
      message: 'We are investigating elevated error rates on card authorisations in the EU region.',
    });
    expect(new Set(records.map((r) => r.change_id)).size).toBe(records.length);
    expect(result.items).toBe(7);
    expect(result.details).toMatchObject({ incidents: 1, changes: 3 });
  });

  it('incident resolved (gone from the unresolved list), maintenance started, component back to operational', async () => {
    source.serve(SUMMARY, fixture('statuspage-resolved-maintenance.json'), JSON_TYPE);
    const { records } = await run();
    expect(records.map(brief).sort()).toEqual(
      [
        'page:ExamplePay minor→maintenance @reports',
        'component:Card Payments degraded_performance→operational @checkout',
        'component:Card Payments degraded_performance→operational @billing',
        'component:Card Payments degraded_performance→operational @reports',
        'component:Dashboard operational→under_maintenance @admin-ui',
        'component:Dashboard operational→under_maintenance @reports',
        'incident:Elevated error rates for card payments investigating→resolved @checkout',
        'incident:Elevated error rates for card payments investigating→resolved @billing',
        'incident:Elevated error rates for card payments investigating→resolved @reports',
        'maintenance:Dashboard database upgrade scheduled→in_progress @admin-ui',
        'maintenance:Dashboard database upgrade scheduled→in_progress @reports',
      ].sort(),
    );
    const degraded = (name: string) => records.find((r) => r.subject_name === name)!;
    expect(degraded('Card Payments').degraded).toBe(false);
    expect(degraded('Elevated error rates for card payments')).toMatchObject({ degraded: false, impact: 'minor' });
    expect(degraded('Dashboard')).toMatchObject({ degraded: true, impact: 'maintenance' });
    expect(degraded('Dashboard database upgrade')).toMatchObject({ degraded: true, impact: 'maintenance' });
  });

  it('an unchanged page answers 304 to If-None-Match: no records, state untouched', async () => {
    const stateBefore = structuredClone(ctx.saved());
    const published = ctx.publisher.published.length;
    const { result, records } = await run();
    const last = source.requests.at(-1)!;
    expect(last.status).toBe(304);
    expect(last.headers['if-none-match']).toBe((stateBefore as StatusPageState).seen!.etag);
    expect(records).toEqual([]);
    expect(ctx.publisher.published.length).toBe(published);
    expect(ctx.saved()).toEqual(stateBefore);
    expect(result).toEqual({
      items: 0,
      details: { status: 304, not_modified: true, format: 'statuspage', components: 5, incidents: 0, maintenances: 1, changes: 0 },
    });
  });
});

describe('a run whose publish fails', () => {
  it('keeps the old snapshot, and its rerun writes the same records (ids and time)', async () => {
    let now = Date.parse('2026-12-02T10:06:00Z');
    const ctx = testJobContext({ jobId: 'job-crash', now: () => now });
    const job = statusJob({ url: source.url('/crash/api/v2/summary.json'), dependents: DEPENDENTS });
    source.serve('/crash/api/v2/summary.json', fixture('statuspage-operational.json'), JSON_TYPE);
    await runStatusPage(job, ctx);
    const before = structuredClone((ctx.saved() as StatusPageState).seen);

    source.serve('/crash/api/v2/summary.json', fixture('statuspage-degraded.json'), JSON_TYPE);
    const attempted: ExternalStatusChange[] = [];
    const publish = ctx.publisher.publish;
    ctx.publisher.publish = async (_kind, records) => {
      attempted.push(...(records as ExternalStatusChange[]));
      throw unavailable('Kafka did not acknowledge');
    };
    now += 60_000;
    await expect(runStatusPage(job, ctx)).rejects.toThrow(/did not acknowledge/);
    expect((ctx.saved() as StatusPageState).seen).toEqual(before);

    ctx.publisher.publish = publish;
    now += 60_000;
    await runStatusPage(job, ctx);
    const written = ctx.publisher.records('externalStatus').filter((r) => r.degraded);
    expect(attempted.length).toBe(7);
    expect(written.map((r) => [r.change_id, r.at]).sort()).toEqual(attempted.map((r) => [r.change_id, r.at]).sort());
    expect((ctx.saved() as StatusPageState).pending).toBeUndefined();
  });
});

describe('what a run refuses', () => {
  it('a 5xx is a failed run that names the status, with the state unchanged', async () => {
    const ctx = testJobContext();
    source.serve('/down/api/v2/summary.json', '<html>upstream connect error</html>', 'text/html', { status: 503, validators: 'none' });
    await expect(runStatusPage(statusJob({ url: source.url('/down'), format: 'statuspage' }), ctx)).rejects.toThrow(/answered HTTP 503/);
    expect(ctx.saved()).toBeUndefined();
    expect(ctx.publisher.published).toEqual([]);
  });

  it('a body that is not a summary says what was wrong with it', async () => {
    const ctx = testJobContext();
    source.serve('/bad/api/v2/summary.json', '{"page": {"id": "x", "name": "X"}, "status": {"indicator": "none"}}', JSON_TYPE);
    await expect(runStatusPage(statusJob({ url: source.url('/bad'), format: 'statuspage' }), ctx)).rejects.toThrow(
      /not readable as statuspage: .*status\.description.*components/,
    );
    source.serve('/html/api/v2/summary.json', '<!doctype html><p>Maintenance</p>', JSON_TYPE);
    await expect(runStatusPage(statusJob({ url: source.url('/html'), format: 'statuspage' }), ctx)).rejects.toThrow(/the body is not JSON/);
    expect(ctx.saved()).toBeUndefined();
  });

  it('format auto refuses JSON that is neither provider', async () => {
    source.serve('/other.json', '{"status": "ok"}', JSON_TYPE);
    await expect(runStatusPage(statusJob({ url: source.url('/other.json') }), testJobContext())).rejects.toThrow(/neither a Statuspage summary/);
  });

  it('follows a redirect, and picks Statuspage by the body with format auto', async () => {
    const ctx = testJobContext();
    source.serve('/moved', '', 'text/plain', { status: 301, validators: 'none', headers: { location: '/moved-to/api/v2/summary.json' } });
    source.serve('/moved-to/api/v2/summary.json', fixture('statuspage-operational.json'), JSON_TYPE);
    const result = await runStatusPage(statusJob({ url: source.url('/moved') }), ctx);
    expect(result.details).toMatchObject({ status: 200, format: 'statuspage', components: 5 });
    expect(result.items).toBe(7); // no dependents: one record per subject, for service ''
    expect(ctx.publisher.records('externalStatus').every((r) => r.service === '')).toBe(true);
  });
});
