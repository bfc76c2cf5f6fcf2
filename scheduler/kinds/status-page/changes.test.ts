import { describe, expect, it } from 'vitest';
import { type Change, changeRecords, diffSnapshots, type RecordContext, servicesFor, settle } from './changes.ts';
import { emptySnapshot, type EventState, type Snapshot } from './snapshot.ts';

/*
 * The rules of changes.ts on small hand-made snapshots (the provider tests
 * run them on real shapes). Before this folder none of it existed.
 */

const rc = (over: Partial<RecordContext> = {}): RecordContext => ({
  tenant: 'acme',
  jobId: 'job-1',
  provider: 'ExamplePay',
  dependents: [],
  pageUrl: 'https://status.examplepay.com',
  observedAt: Date.parse('2026-12-02T10:00:00Z'),
  since: null,
  ...over,
});

const incident = (over: Partial<EventState> = {}): EventState => ({
  id: 'inc-1',
  name: 'Elevated errors',
  status: 'investigating',
  impact: 'major',
  updated_at: '',
  url: '',
  message: 'Looking into it',
  components: [],
  ...over,
});

const page = (over: Partial<Snapshot> = {}): Snapshot => ({ ...emptySnapshot('all'), ...over });

describe('servicesFor', () => {
  const dependents = [{ service: 'checkout', components: ['Card Payments'] }, { service: 'reports' }, { service: 'checkout' }];
  const change = (kind: Change['subject_kind'], components: string[]) => ({ subject_kind: kind, components });

  it('names match case-insensitively, by component or group; a service is listed once', () => {
    expect(servicesFor(change('component', ['card payments ']), [{ service: 'checkout', components: ['Card Payments'] }])).toEqual(['checkout']);
    expect(servicesFor(change('component', ['Card Payments']), dependents)).toEqual(['checkout', 'reports']);
  });

  it("the page's indicator goes to dependents without a list; an incident naming no component to all", () => {
    const scoped = [{ service: 'checkout', components: ['Card Payments'] }];
    expect(servicesFor(change('page', []), scoped)).toEqual(['']);
    expect(servicesFor(change('incident', []), scoped)).toEqual(['checkout']);
    expect(servicesFor(change('incident', ['Payouts']), scoped)).toEqual(['']);
  });
});

describe('diffSnapshots', () => {
  it('an unchanged page is no change; a new update on an open incident is one', () => {
    const s = page({ page: { status: 'none', description: 'ok' }, incidents: [incident({ updated_at: '2026-12-02T10:00:00.000Z' })] });
    expect(diffSnapshots(s, structuredClone(s), 'X')).toEqual([]);
    const later = page({ ...s, incidents: [incident({ updated_at: '2026-12-02T10:20:00.000Z', message: 'Fix rolling out' })] });
    expect(diffSnapshots(s, later, 'X')).toEqual([
      expect.objectContaining({
        subject_kind: 'incident',
        from_status: 'investigating',
        to_status: 'investigating',
        degraded: true,
        message: 'Fix rolling out',
      }),
    ]);
  });

  it('a component removed from a full list is dropped without a record; one named by incident.io and gone is operational', () => {
    const comp = { id: 'c1', name: 'API', status: 'major_outage' };
    expect(diffSnapshots(page({ components: [comp] }), page(), 'X')).toEqual([]);
    const prev = { ...emptySnapshot('affected'), components: [comp] };
    const next = settle(prev, emptySnapshot('affected'));
    expect(next.components).toEqual([{ ...comp, status: 'operational' }]);
    expect(diffSnapshots(prev, next, 'X')).toEqual([
      expect.objectContaining({ subject_kind: 'component', from_status: 'major_outage', to_status: 'operational', degraded: false, impact: 'none' }),
    ]);
  });

  it("an incident's components gather over its life, so its end reaches whoever heard of its start", () => {
    const prev = page({ incidents: [incident({ components: ['API'] })] });
    const next = settle(prev, page({ incidents: [incident({ components: ['Webhooks'], updated_at: 'x' })] }));
    expect(next.incidents[0]!.components).toEqual(['API', 'Webhooks']);
    const unscoped = settle(page({ incidents: [incident({ components: [] })] }), page({ incidents: [incident({ components: ['API'] })] }));
    expect(unscoped.incidents[0]!.components).toEqual([]);
  });
});

describe('change ids', () => {
  const resolved = (since: number) =>
    changeRecords(diffSnapshots(page({ incidents: [incident()] }), page(), 'X'), rc({ since, dependents: [{ service: 'a' }, { service: 'b' }] }));

  it('the same change seen after the same snapshot has the same id, per service', () => {
    const [a, b] = resolved(1000);
    expect(a!.change_id).toMatch(/^esc_[0-9a-f]{32}$/);
    expect(a!.change_id).not.toBe(b!.change_id);
    expect(resolved(1000).map((r) => r.change_id)).toEqual([a!.change_id, b!.change_id]);
  });

  it('with no provider time, a later flap to the same state is a new change', () => {
    expect(resolved(2000)[0]!.change_id).not.toBe(resolved(1000)[0]!.change_id);
  });

  it("with a provider time, the id follows it and not the snapshot's", () => {
    const opened = (since: number, updated_at: string) =>
      changeRecords(diffSnapshots(page(), page({ incidents: [incident({ updated_at })] }), 'X'), rc({ since }))[0]!.change_id;
    expect(opened(1000, '2026-12-02T10:00:00.000Z')).toBe(opened(2000, '2026-12-02T10:00:00.000Z'));
    expect(opened(1000, '2026-12-02T10:00:00.000Z')).not.toBe(opened(1000, '2026-12-02T10:05:00.000Z'));
  });

  it('records carry the run context, and the page URL where the provider gives none', () => {
    const [r] = resolved(1000);
    expect(r).toMatchObject({
      tenant: 'acme',
      job_id: 'job-1',
      provider: 'ExamplePay',
      service: 'a',
      subject_kind: 'incident',
      from_status: 'investigating',
      to_status: 'resolved',
      degraded: false,
      impact: 'major',
      url: 'https://status.examplepay.com',
      at: Date.parse('2026-12-02T10:00:00Z'),
    });
  });
});
