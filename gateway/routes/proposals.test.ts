import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { ProposalRecord } from '../../schemas/topics.ts';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { proposalRecord, sinkPublished } from '../../test/helpers/remediation.ts';
import { throwawayRedisPerFile } from '../../test/helpers/redis-server.ts';

/**
 * Proposals through the API on a real Redis (platform/proposals.ts decides)
 * and the stub publisher (what "Kafka" received: each new version and its
 * audit event): approve and reject once, 409 for what is no longer
 * pending or is a suggestion, 403 for who may not decide, the live status
 * over the lagging ClickHouse history, the audit, an incident's proposals,
 * tenants apart. Before gateway/routes/proposals.ts these were all 404s.
 */
const redis = throwawayRedisPerFile();

async function withProposal(over: Partial<ProposalRecord> = {}) {
  const t = routeTestApp({ redis: redis().client() });
  const p = proposalRecord(TEST_TENANTS.a, over);
  expect(await t.proposals!.propose(p, 'policy:pol-1')).toBe(true);
  sinkPublished(t);
  return { ...t, p, live: () => t.proposals!.get(TEST_TENANTS.a, p.proposal_id) };
}

describe('POST /v1/proposals/{id}/approve and /reject', () => {
  it.each([
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const)('%s: decides once, publishes the new version and its audit event', async (verb, status) => {
    const t = await withProposal();
    const res = await t.a('POST', `/v1/proposals/${t.p.proposal_id}/${verb}`, { approver: 'alice', comment: 'bad deploy' });
    expect(res.status).toBe(200);
    const decided = {
      ...t.p,
      version: 2,
      status,
      decided_by: 'api:alice',
      decided_at: expect.any(Number),
      comment: 'bad deploy',
      updated_at: expect.any(Number),
    };
    expect(await res.json()).toEqual(decided);
    expect(await t.live()).toEqual(decided);
    expect(t.publisher.records('proposals').at(-1)).toEqual(decided);
    expect(t.publisher.records('audit').at(-1)).toEqual({
      event_id: `${t.p.proposal_id}:2`,
      tenant: TEST_TENANTS.a,
      at: expect.any(Number),
      actor: 'api:alice',
      event: status,
      subject_kind: 'proposal',
      subject_id: t.p.proposal_id,
      service: 'checkout',
      details: JSON.stringify({ from: 'proposed', comment: 'bad deploy' }),
    });

    // A second decision, either way, is a 409 that says what became of it; nothing more is published.
    const published = t.publisher.published.length;
    for (const again of ['approve', 'reject']) {
      const error = await expectError(await t.a('POST', `/v1/proposals/${t.p.proposal_id}/${again}`, {}), 409, 'conflict');
      expect(error.message).toContain(`it is ${status} by api:alice`);
      expect(error.details).toEqual({ status, decided_by: 'api:alice' });
    }
    expect(t.publisher.published).toHaveLength(published);
  });

  it('decides as "api:api" when no approver is named and the tenant names none', async () => {
    const t = await withProposal();
    expect(await (await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, {})).json()).toMatchObject({
      status: 'approved',
      decided_by: 'api:api',
      comment: null,
    });
  });

  it('refuses an expired proposal with 409 saying it expired', async () => {
    const t = await withProposal();
    expect(
      (await t.proposals!.transition(TEST_TENANTS.a, t.p.proposal_id, 'expired', { actor: 'system', patch: { reason: 'nobody decided within 30m' } })).ok,
    ).toBe(true);
    const error = await expectError(await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, {}), 409, 'conflict');
    expect(error.message).toContain('it is expired');
    expect((await t.live())!.status).toBe('expired');
  });

  it('refuses to approve a suggestion (never run), and takes its rejection', async () => {
    const t = await withProposal({ mode: 'suggest' });
    const error = await expectError(await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, {}), 409, 'conflict');
    expect(error.message).toContain('suggestions are not run');
    expect((await t.live())!.status).toBe('proposed');
    expect((await t.a('POST', `/v1/proposals/${t.p.proposal_id}/reject`, { comment: 'noted' })).status).toBe(200);
  });

  it("takes only the tenant's approvers when it names them: 403 otherwise, nothing changed", async () => {
    const t = await withProposal();
    expect((await t.a('PUT', '/v1/remediation-settings', { approvers: ['alice', 'slack:U0ALICE'] })).status).toBe(200);
    const published = t.publisher.published.length;
    for (const body of [{}, { approver: 'mallory' }, { approver: 'U0ALICE' }]) {
      await expectError(await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, body), 403, 'forbidden');
    }
    expect((await t.live())!.status).toBe('proposed');
    expect(t.publisher.published).toHaveLength(published);
    expect((await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, { approver: 'alice' })).status).toBe(200);
  });

  it('answers 503 and leaves it pending when Kafka does not acknowledge the decision', async () => {
    const t = await withProposal();
    t.publisher.setDown(true);
    await expectError(await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, {}), 503, 'unavailable');
    expect(await t.live()).toEqual(t.p);
    t.publisher.setDown(false);
    expect((await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, {})).status).toBe(200);
  });

  it('refuses a body that is not {approver?, comment?} with 400, changing nothing', async () => {
    const t = await withProposal();
    await expectError(await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, { approve: true }), 400, 'bad_request');
    expect((await t.live())!.status).toBe('proposed');
  });

  it("keeps tenants apart: another tenant's proposal is not found and not decided", async () => {
    const t = await withProposal();
    for (const path of [`/v1/proposals/${t.p.proposal_id}/approve`, `/v1/proposals/${t.p.proposal_id}/reject`, '/v1/proposals/no-such/approve']) {
      await expectError(await t.b('POST', path, {}), 404, 'not_found');
    }
    await expectError(await t.b('GET', `/v1/proposals/${t.p.proposal_id}`), 404, 'not_found');
    expect(await (await t.b('GET', '/v1/proposals')).json()).toEqual({ items: [] });
    expect(await (await t.b('GET', '/v1/audit')).json()).toEqual({ items: [] });
    expect((await t.live())!.status).toBe('proposed');
    await expectError(await t.anonymous('POST', `/v1/proposals/${t.p.proposal_id}/approve`, {}), 401, 'unauthorized');
  });
});

describe('GET /v1/proposals, /v1/proposals/{id}, /v1/audit', () => {
  it('shows the live status from Redis before the sink has written the new version', async () => {
    const t = await withProposal();
    await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, { approver: 'alice' });
    // ClickHouse (the memory stand-in) still holds version 1: without the overlay these would say proposed.
    expect((await t.memory.proposals.get(TEST_TENANTS.a, t.p.proposal_id))!.status).toBe('proposed');
    expect(await (await t.a('GET', `/v1/proposals/${t.p.proposal_id}`)).json()).toMatchObject({ status: 'approved', version: 2 });
    expect(((await (await t.a('GET', '/v1/proposals')).json()) as { items: ProposalRecord[] }).items.map((p) => p.status)).toEqual(['approved']);
    expect(await (await t.a('GET', '/v1/proposals?status=proposed')).json()).toEqual({ items: [] });
  });

  it('lists newest first with filters', async () => {
    const t = routeTestApp({ redis: redis().client() });
    const now = Date.now();
    const made = [
      proposalRecord(TEST_TENANTS.a, { created_at: now - 3000, service: 'checkout', incident_id: 'inc_1' }),
      proposalRecord(TEST_TENANTS.a, { created_at: now - 2000, service: 'search', incident_id: 'inc_2' }),
      proposalRecord(TEST_TENANTS.a, { created_at: now - 1000, service: 'checkout', incident_id: 'inc_1' }),
    ];
    for (const p of made) await t.proposals!.propose(p, 'policy:pol-1');
    sinkPublished(t);
    const ids = async (query: string) =>
      ((await (await t.a('GET', `/v1/proposals${query}`)).json()) as { items: ProposalRecord[] }).items.map((p) => p.proposal_id);
    const [oldest, middle, newest] = made.map((p) => p.proposal_id);
    expect(await ids('')).toEqual([newest, middle, oldest]);
    expect(await ids('?service=checkout')).toEqual([newest, oldest]);
    expect(await ids('?incident_id=inc_2')).toEqual([middle]);
    expect(await ids('?limit=1')).toEqual([newest]);
    expect(await ids(`?before=${now - 1000}`)).toEqual([middle, oldest]);
    await expectError(await t.a('GET', '/v1/proposals?status=maybe'), 400, 'bad_request');
  });

  it('reads the audit newest first, by subject and since', async () => {
    const t = await withProposal();
    // Apart by a few milliseconds, so "newest first" has one answer (events of one millisecond are ordered by id).
    await sleep(3);
    await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, { approver: 'alice', comment: 'go' });
    await sleep(3);
    await t.a('POST', '/v1/actions', { name: 'restart', kind: 'docker', risk: 'low', api_url: 'https://docker.example.com', container: 'x' });
    sinkPublished(t);
    type Audit = { items: { actor: string; event: string; subject_id: string; at: number; details: unknown }[] };
    const all = (await (await t.a('GET', '/v1/audit')).json()) as Audit;
    expect(all.items.map((e) => `${e.actor} ${e.event}`)).toEqual(['api created', 'api:alice approved', 'policy:pol-1 proposed']);
    expect(all.items[1]!.details).toEqual({ from: 'proposed', comment: 'go' });
    const ofProposal = (await (await t.a('GET', `/v1/audit?subject_id=${t.p.proposal_id}`)).json()) as Audit;
    expect(ofProposal.items.map((e) => e.event)).toEqual(['approved', 'proposed']);
    const since = (await (await t.a('GET', `/v1/audit?since=${all.items[0]!.at}&limit=5`)).json()) as Audit;
    expect(since.items.map((e) => e.event)).toEqual(['created']);
    await expectError(await t.a('GET', '/v1/audit?limit=0'), 400, 'bad_request');
  });
});

describe('GET /v1/incidents/{id}', () => {
  it("lists the incident's proposals with their live status", async () => {
    const t = await withProposal();
    const other = proposalRecord(TEST_TENANTS.a, { incident_id: 'inc_2', subject_id: 'inc_2' });
    await t.proposals!.propose(other, 'policy:pol-1');
    sinkPublished(t);
    t.memory.incidents.seed(TEST_TENANTS.a, {
      incident_id: 'inc_1',
      service: 'checkout',
      status: 'open',
      severity: 'high',
      version: 1,
      opened_at: Date.now(),
      updated_at: Date.now(),
      resolved_at: null,
      signal_count: 1,
      suspect_deployment: null,
    });
    await t.a('POST', `/v1/proposals/${t.p.proposal_id}/approve`, {});
    expect(((await (await t.a('GET', '/v1/incidents/inc_1')).json()) as { proposals: unknown }).proposals).toEqual([
      { proposal_id: t.p.proposal_id, action_id: 'act-1', action_name: 'rollback', mode: 'approve', status: 'approved' },
    ]);
  });
});
