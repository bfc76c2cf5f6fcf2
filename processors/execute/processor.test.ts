import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { Proposals } from '../../platform/proposals.ts';
import { TOPICS, type ProposalRecord } from '../../schemas/topics.ts';
import type { StoredDocument } from '../../sql/stores/documents.ts';
import { stubPublisher } from '../../test/helpers/publisher-stub.ts';
import { throwawayRedisPerFile } from '../../test/helpers/redis-server.ts';
import { proposalRecord } from '../../test/helpers/remediation.ts';
import { type Action, parseAction } from '../../tenant-config/actions.ts';
import { type Policy, parsePolicy } from '../../tenant-config/remediation-policies.ts';
import type { Decoded } from '../runtime/processor.ts';
import { executeProcessor } from './processor.ts';
import type { ActionRun, RunActionOptions } from './run-action.ts';

/**
 * The executor's guards, driven through `handle` with a real Redis (the
 * Proposals state machine and the executor's lock and history) and a stub
 * in place of the action's call, which records what it was asked.
 *
 * How each case is known to guard something: it was checked against the
 * processor with that guard taken out (noted per case); each then fails.
 */

const TENANT = 'acme';
const redis = throwawayRedisPerFile();

const doc = <T>(id: string, definition: T): StoredDocument<T> => ({ id, tenant: TENANT, created_at: 1, updated_at: 1, definition });
const webhook = (risk: 'low' | 'medium') =>
  doc<Action>(
    'act-1',
    parseAction({ name: 'rollback', kind: 'webhook', url: 'http://127.0.0.1:9/hook', risk }, { tenant: TENANT, box: undefined, allowLoopback: true }),
  );
const policy = (over: Record<string, unknown> = {}) =>
  doc<Policy>('pol-1', parsePolicy({ name: 'roll back bad deploys', action_id: 'act-1', mode: 'approve', ...over }));

const answered: ActionRun = { request: 'POST http://127.0.0.1:9/hook', status_code: 200, response_excerpt: 'ok', duration_ms: 3, ok: true, error: null };

/** Proposals whose reads come from the moment of approval: an executor whose read raced another's claim. */
class StaleReads extends Proposals {
  readonly approvedAt = new Map<string, ProposalRecord>();
  override async get(tenant: string, id: string) {
    const now = await super.get(tenant, id);
    if (now?.status === 'approved') this.approvedAt.set(id, now);
    return this.approvedAt.get(id) ?? now;
  }
}

function setup(o: { policy?: StoredDocument<Policy>; action?: StoredDocument<Action>; result?: ActionRun; stale?: boolean } = {}) {
  const client = redis().client();
  const publisher = stubPublisher();
  const proposals = o.stale ? new StaleReads(client, publisher) : new Proposals(client, publisher);
  const calls: { action: Action; vars: Record<string, string>; o: RunActionOptions }[] = [];
  const processor = executeProcessor({
    proposals,
    redis: client,
    policies: async () => [o.policy ?? policy()],
    actions: async () => [o.action ?? webhook('low')],
    config: { timeoutMs: 5000, lockMs: 60_000, refreshMs: 0, allowLoopback: true, box: undefined },
    groupId: 'g',
    run: async (action, vars, opts) => {
      calls.push({ action, vars, o: opts });
      return o.result ?? answered;
    },
  });
  /** Puts a proposal into Redis and approves it, as the remediate processor and an approver would. */
  const approved = async (over: Partial<ProposalRecord> = {}) => {
    const p = proposalRecord(TENANT, { policy_id: 'pol-1', action_id: 'act-1', ...over });
    expect(await proposals.propose(p, 'remediate')).toBe(true);
    const t = await proposals.transition(TENANT, p.proposal_id, 'approved', { actor: 'api:alice', patch: { decided_by: 'alice', decided_at: Date.now() } });
    if (!t.ok) throw new Error('approval refused');
    return t.proposal;
  };
  const decoded = (value: ProposalRecord): Decoded => ({ topic: TOPICS.proposals.topic, partition: 0, offset: '1', value, message: {} as KafkaMessage });
  const handle = (...records: ProposalRecord[]) => processor.handle(records.map(decoded), { finalAttempt: false });
  const current = async (p: ProposalRecord) => (await proposals.get(TENANT, p.proposal_id)) as ProposalRecord;
  return { client, publisher, proposals, calls, approved, handle, current };
}

describe('the executor', () => {
  it('runs an approved proposal once, with its variables and its id as Idempotency-Key, and records it', async () => {
    const t = setup();
    const p = await t.approved();
    expect(await t.handle(p)).toEqual({ rejected: [] });

    expect(t.calls).toHaveLength(1);
    const [call] = t.calls;
    expect(call?.vars).toEqual(p.variables);
    expect(call?.o.idempotencyKey).toBe(p.proposal_id);
    expect(call?.action.name).toBe('rollback');
    const done = await t.current(p);
    expect(done.status).toBe('succeeded');
    expect(done.reason).toBeNull();
    expect(done.execution).toMatchObject({ request: answered.request, status_code: 200, response_excerpt: 'ok', duration_ms: 3, error: null });
    // The lock is released once the run is recorded.
    expect(await t.client.get(`remediation:running:${TENANT}:checkout`)).toBeNull();

    // A replay of the approved record: the proposal is no longer approved, so no second call.
    // (With both the status check and the approved → executing claim taken out, this calls again; the claim alone is tested below.)
    await t.handle(p);
    expect(t.calls).toHaveLength(1);
    expect((await t.current(p)).version).toBe(done.version);

    // Every version reached autopilot.proposals, each with its audit event, in order.
    expect(t.publisher.records('proposals').map((r) => [r.version, r.status])).toEqual([
      [1, 'proposed'],
      [2, 'approved'],
      [3, 'executing'],
      [4, 'succeeded'],
    ]);
    expect(t.publisher.records('audit').map((e) => [e.event_id, e.event, e.actor])).toEqual([
      [`${p.proposal_id}:1`, 'proposed', 'remediate'],
      [`${p.proposal_id}:2`, 'approved', 'api:alice'],
      [`${p.proposal_id}:3`, 'executing', 'executor'],
      [`${p.proposal_id}:4`, 'succeeded', 'executor'],
    ]);
  });

  it('does not run a proposal another executor claimed after it was read as approved', async () => {
    const t = setup({ stale: true });
    const p = await t.approved();
    await t.proposals.get(TENANT, p.proposal_id); // read while approved
    await t.handle(p);
    expect(t.calls).toHaveLength(1);
    // The replay reads approved (stale), passes the guards, and must lose the approved → executing claim.
    // Without the claim's check (`if (!claimed.ok) return`) the stub is called a second time.
    await t.handle(p);
    expect(t.calls).toHaveLength(1);
    // Read past the stale view: the first run's record stands.
    const stored = await t.client.get(`remediation:proposal:${TENANT}:${p.proposal_id}`);
    expect((JSON.parse(stored ?? '{}') as ProposalRecord).status).toBe('succeeded');
  });

  it('records a failed call as failed, the error as its reason', async () => {
    const error = 'HTTP 500: upstream exploded';
    const t = setup({ result: { ...answered, status_code: 500, response_excerpt: 'boom', ok: false, error } });
    const p = await t.approved();
    await t.handle(p);
    const done = await t.current(p);
    // With the outcome ignored (always succeeded), this reads succeeded.
    expect(done.status).toBe('failed');
    expect(done.reason).toBe(error);
    expect(done.execution).toMatchObject({ status_code: 500, error });
  });

  it('blocks a service past its policy’s executions per hour, other services unaffected', async () => {
    const t = setup({ policy: policy({ max_per_service_per_hour: 2 }) });
    const [a, b, c] = [await t.approved(), await t.approved(), await t.approved()];
    const other = await t.approved({ service: 'cart', variables: { service: 'cart' } });
    await t.handle(a, b, c, other);

    expect((await t.current(a)).status).toBe('succeeded');
    expect((await t.current(b)).status).toBe('succeeded');
    // Without the rate guard the third runs too (three calls on checkout).
    const third = await t.current(c);
    expect(third.status).toBe('blocked');
    expect(third.reason).toMatch(/^rate: 2 executions on checkout in the last hour \(at most 2\)/);
    expect((await t.current(other)).status).toBe('succeeded');
    expect(t.calls.map((x) => x.o.idempotencyKey)).toEqual([a.proposal_id, b.proposal_id, other.proposal_id]);
  });

  it('blocks a proposal while another action runs on its service', async () => {
    const t = setup();
    const p = await t.approved();
    await t.client.set(`remediation:running:${TENANT}:checkout`, 'other-executor:prop_else', 'PX', 60_000);
    await t.handle(p);
    // Without the lock (SET NX) it would run alongside the other action.
    const done = await t.current(p);
    expect(done.status).toBe('blocked');
    expect(done.reason).toBe('another action is running on checkout');
    expect(t.calls).toHaveLength(0);
    // Another executor's lock is left alone.
    expect(await t.client.get(`remediation:running:${TENANT}:checkout`)).toBe('other-executor:prop_else');
  });

  it('a dry run does everything but the call', async () => {
    const t = setup({ policy: policy({ dry_run: true }) });
    const p = await t.approved({ dry_run: true });
    await t.handle(p);
    // Without the dry_run branch the stub is called.
    expect(t.calls).toHaveLength(0);
    const done = await t.current(p);
    expect(done.status).toBe('succeeded');
    expect(done.reason).toMatch(/^dry run/);
    expect(done.execution?.request).toBe('dry run: webhook rollback');
  });

  it('blocks an auto proposal whose action is no longer low risk', async () => {
    // Proposed while the action was low risk; it is medium by the time it is run.
    const t = setup({ policy: policy({ mode: 'auto' }), action: webhook('medium') });
    const p = await t.approved({ mode: 'auto', risk: 'low' });
    await t.handle(p);
    // Without the risk check it runs (the stub is called, the proposal succeeds).
    const done = await t.current(p);
    expect(done.status).toBe('blocked');
    expect(done.reason).toBe('action rollback is medium risk now: auto runs only low-risk actions');
    expect(t.calls).toHaveLength(0);
  });

  it('an interrupted run waits while its lock lives, then is failed, never called again', async () => {
    const t = setup();
    const p = await t.approved();
    // As an executor that died between the call and its record leaves it: executing, its lock held.
    expect((await t.proposals.transition(TENANT, p.proposal_id, 'executing', { actor: 'executor', from: ['approved'] })).ok).toBe(true);
    const lock = `remediation:running:${TENANT}:checkout`;
    await t.client.set(lock, `4242:dead:${p.proposal_id}`, 'PX', 60_000);

    // Its executor may still be at it: retriable, so the runtime tries the batch again later.
    // (Without the lock check it would be failed at once while possibly still running.)
    await expect(t.handle(p)).rejects.toMatchObject({ code: 'unavailable', retriable: true });
    expect((await t.current(p)).status).toBe('executing');

    await t.client.del(lock);
    await t.handle(p);
    // Without the executing branch the replay is skipped (status not approved) and the proposal stays executing for ever.
    const done = await t.current(p);
    expect(done.status).toBe('failed');
    expect(done.reason).toMatch(/^interrupted/);
    expect(t.calls).toHaveLength(0);
  });
});
