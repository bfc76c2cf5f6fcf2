import { describe, expect, it } from 'vitest';
import type { IncidentSummary } from '../../sql/stores/incidents.ts';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';

/**
 * The incidents API (/v1/incidents) on an in-memory store seeded with what
 * the correlate processor would have written: filters, keyset pages behind
 * an opaque cursor, feedback, and one tenant's incidents invisible to
 * another. The SQL behind it is exercised on ClickHouse in test/api.test.ts.
 */
const MINUTE = 60_000;
const t0 = Date.now() - 60 * MINUTE;
const incident = (incident_id: string, minute: number, over: Partial<IncidentSummary> = {}): IncidentSummary => ({
  incident_id,
  service: 'checkout',
  status: 'open',
  severity: 'high',
  version: 1,
  opened_at: t0 + minute * MINUTE,
  updated_at: t0 + minute * MINUTE,
  resolved_at: null,
  signal_count: 2,
  suspect_deployment: null,
  ...over,
});

function seeded() {
  const t = routeTestApp();
  t.memory.incidents.seed(TEST_TENANTS.a, incident('inc_1', 1));
  t.memory.incidents.seed(TEST_TENANTS.a, incident('inc_2', 2, { service: 'payments' }));
  t.memory.incidents.seed(TEST_TENANTS.a, incident('inc_3', 3, { status: 'resolved', resolved_at: t0 + 4 * MINUTE, updated_at: t0 + 4 * MINUTE }));
  t.memory.incidents.seed(TEST_TENANTS.a, incident('inc_4', 4));
  t.memory.incidents.seed(TEST_TENANTS.b, incident('inc_b', 5));
  return t;
}

type Page = { incidents: IncidentSummary[]; next_cursor: string | null };
const ids = (page: Page) => page.incidents.map((i) => i.incident_id);

describe('GET /v1/incidents', () => {
  it.each([
    ['', ['inc_4', 'inc_3', 'inc_2', 'inc_1']],
    ['?service=checkout', ['inc_4', 'inc_3', 'inc_1']],
    ['?status=open&service=checkout', ['inc_4', 'inc_1']],
    [`?since=${t0 + 3 * MINUTE}`, ['inc_4', 'inc_3']],
    [`?since=${new Date(t0 + 3 * MINUTE).toISOString()}`, ['inc_4', 'inc_3']],
  ])("lists the tenant's incidents newest first%s", async (query, expected) => {
    const t = seeded();
    expect(ids((await (await t.a('GET', `/v1/incidents${query}`)).json()) as Page)).toEqual(expected);
  });

  it('pages with an opaque cursor: next_cursor while a page is full, null after a short one', async () => {
    const t = seeded();
    const first = (await (await t.a('GET', '/v1/incidents?limit=3')).json()) as Page;
    expect(ids(first)).toEqual(['inc_4', 'inc_3', 'inc_2']);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = (await (await t.a('GET', `/v1/incidents?limit=3&cursor=${first.next_cursor}`)).json()) as Page;
    expect(second).toEqual({ incidents: [expect.objectContaining({ incident_id: 'inc_1' })], next_cursor: null });
  });

  it.each([
    ['a cursor that is not one it gave out', '?cursor=not-a-cursor'],
    ['a cursor of the wrong shape', `?cursor=${Buffer.from('{"page": 2}').toString('base64url')}`],
    ['a limit over 500', '?limit=501'],
    ['a filter it does not know', '?tenant=tenant-b'],
  ])('refuses %s with 400', async (_what, query) => {
    await expectError(await seeded().a('GET', `/v1/incidents${query}`), 400, 'bad_request');
  });
});

describe('one incident and its feedback', () => {
  it('shows the incident with its feedback counts', async () => {
    const t = seeded();
    for (const helpful of [true, true, false]) expect((await t.a('POST', '/v1/incidents/inc_1/feedback', { helpful })).status).toBe(201);
    expect(await (await t.a('GET', '/v1/incidents/inc_1')).json()).toMatchObject({
      incident_id: 'inc_1',
      signals: [],
      analysis: null,
      feedback: { count: 3, helpful: 2 },
    });
  });

  it('takes feedback with 201 and keeps it for the tenant', async () => {
    const t = seeded();
    const res = await t.a('POST', '/v1/incidents/inc_1/feedback', { helpful: false, comment: 'blamed the wrong deploy' });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ incident_id: 'inc_1', feedback_id: expect.any(String), created_at: expect.any(Number) });
    expect(t.memory.incidents.feedbackOf(TEST_TENANTS.a, 'inc_1')).toMatchObject([{ helpful: false, comment: 'blamed the wrong deploy' }]);
  });

  it('refuses feedback that is not {helpful, comment?}, naming the field, and keeps nothing', async () => {
    const t = seeded();
    const error = await expectError(await t.a('POST', '/v1/incidents/inc_1/feedback', { helpful: 'yes', rating: 5 }), 400, 'bad_request');
    expect((error.details as { path: string }[]).map((d) => d.path).sort()).toEqual(['', 'helpful']);
    expect(t.memory.incidents.feedbackOf(TEST_TENANTS.a, 'inc_1')).toEqual([]);
  });

  it.each([
    ['GET', '/v1/incidents/inc_1', undefined],
    ['POST', '/v1/incidents/inc_1/feedback', { helpful: true }],
    ['POST', '/v1/incidents/no_such/feedback', { helpful: true }],
  ])("%s %s of another tenant's (or no) incident is 404 and keeps nothing", async (method, path, body) => {
    const t = seeded();
    await expectError(await t.b(method, path, body), 404, 'not_found');
    const id = path.split('/')[3]!;
    expect([...t.memory.incidents.feedbackOf(TEST_TENANTS.a, id), ...t.memory.incidents.feedbackOf(TEST_TENANTS.b, id)]).toEqual([]);
  });

  it("does not list another tenant's incidents", async () => {
    expect(ids((await (await seeded().b('GET', '/v1/incidents')).json()) as Page)).toEqual(['inc_b']);
  });
});
