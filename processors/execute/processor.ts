import type { Redis } from 'ioredis';
import { unavailable } from '../../lib/errors.ts';
import { Proposals } from '../../platform/proposals.ts';
import { TOPICS, type ProposalRecord } from '../../schemas/topics.ts';
import { DocumentStore, type StoredDocument } from '../../sql/stores/documents.ts';
import type { Action } from '../../tenant-config/actions.ts';
import type { Policy } from '../../tenant-config/remediation-policies.ts';
import { defineProcessor } from '../runtime/factory.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { executeConfig, type ExecuteConfig } from './config.ts';
import { runAction, type ActionRun } from './run-action.ts';

const HOUR = 3_600_000;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * The executor: runs approved proposals (autopilot.proposals, status
 * approved), each at most once and, unless it is interrupted, exactly once.
 *
 * Per proposal, in order: the guards (at most the policy's
 * max_per_service_per_hour executions on the service in the last hour; none
 * while another action runs on the service: a lock in Redis), then the
 * claim approved → executing (a compare-and-set in Redis: one executor wins,
 * a replay finds it claimed), then the call (with the proposal id as
 * Idempotency-Key), then executing → succeeded or failed with the request,
 * status, an excerpt of the answer and the duration.
 *
 * A crash between the call and its record leaves the proposal `executing`
 * and the service's lock held. The replayed approved record finds the claim
 * taken: while the lock lives it waits (the batch is retried), and once the
 * lock has lapsed with its holder gone it records the proposal as failed,
 * interrupted, and does not call again: the target may have acted, and an
 * action is never run twice. A dry run does everything but the call.
 */
export function executeProcessor(deps: {
  proposals: Proposals;
  redis: Redis;
  policies: () => Promise<StoredDocument<Policy>[]>;
  actions: () => Promise<StoredDocument<Action>[]>;
  config: ExecuteConfig;
  groupId: string;
  run?: typeof runAction;
}): ProcessorSpec {
  const { config } = deps;
  const run = deps.run ?? runAction;
  let cached: { at: number; policies: Map<string, Policy>; actions: Map<string, Action> } | undefined;
  const lookups = async () => {
    if (!cached || Date.now() - cached.at >= config.refreshMs) {
      const [policies, actions] = await Promise.all([deps.policies(), deps.actions()]);
      const byId = <T>(docs: StoredDocument<T>[]) => new Map(docs.map((d) => [`${d.tenant}\u0000${d.id}`, d.definition]));
      cached = { at: Date.now(), policies: byId(policies), actions: byId(actions) };
    }
    return cached;
  };
  const lockKey = (p: ProposalRecord) => `remediation:running:${p.tenant}:${p.service}`;
  const historyKey = (p: ProposalRecord) => `remediation:executions:${p.tenant}:${p.service}`;
  const owner = `${process.pid}:${Math.random().toString(36).slice(2)}`;

  const execute = async (p: ProposalRecord) => {
    const current = await deps.proposals.get(p.tenant, p.proposal_id);
    if (!current) return; // gone from Redis (kept 30 days): nothing to do
    if (current.status === 'executing') return settleInterrupted(current);
    if (current.status !== 'approved') return; // decided since (already run, blocked, expired…): a replay
    const { policies, actions } = await lookups();
    const policy = policies.get(`${p.tenant}\u0000${p.policy_id}`);
    const action = actions.get(`${p.tenant}\u0000${p.action_id}`);
    const block = (reason: string) => deps.proposals.transition(p.tenant, p.proposal_id, 'blocked', { actor: 'executor', patch: { reason } });
    if (!action) return void (await block(`action ${p.action_id} no longer exists`));
    if (p.mode === 'auto' && action.risk !== 'low')
      return void (await block(`action ${action.name} is ${action.risk} risk now: auto runs only low-risk actions`));
    const perHour = policy?.max_per_service_per_hour ?? 3;
    const now = Date.now();
    await deps.redis.zremrangebyscore(historyKey(p), 0, now - HOUR);
    const recent = await deps.redis.zcard(historyKey(p));
    if (recent >= perHour) return void (await block(`rate: ${recent} executions on ${p.service} in the last hour (at most ${perHour})`));
    if ((await deps.redis.set(lockKey(p), `${owner}:${p.proposal_id}`, 'PX', config.lockMs, 'NX')) !== 'OK') {
      return void (await block(`another action is running on ${p.service}`));
    }
    try {
      const claimed = await deps.proposals.transition(p.tenant, p.proposal_id, 'executing', { actor: 'executor', from: ['approved'] });
      if (!claimed.ok) return; // another executor, or a decision, got there first
      await deps.redis.zadd(historyKey(p), now, p.proposal_id);
      await deps.redis.pexpire(historyKey(p), HOUR);
      const started = Date.now();
      const result: ActionRun = p.dry_run
        ? { request: `dry run: ${action.kind} ${action.name}`, status_code: null, response_excerpt: '', duration_ms: 0, ok: true, error: null }
        : await run(action, p.variables, {
            tenant: p.tenant,
            box: config.box,
            guard: { allowLoopback: config.allowLoopback },
            signal: AbortSignal.timeout(config.timeoutMs),
            idempotencyKey: p.proposal_id,
          });
      const execution = {
        started_at: started,
        ended_at: Date.now(),
        request: result.request,
        status_code: result.status_code,
        response_excerpt: result.response_excerpt,
        duration_ms: result.duration_ms,
        error: result.error,
      };
      await deps.proposals.transition(p.tenant, p.proposal_id, result.ok ? 'succeeded' : 'failed', {
        actor: 'executor',
        patch: { execution, reason: result.ok ? (p.dry_run ? 'dry run: nothing was called' : null) : result.error },
      });
    } finally {
      await deps.redis.eval(RELEASE, 1, lockKey(p), `${owner}:${p.proposal_id}`);
    }
  };

  /** A proposal left executing by an executor that died mid-call: failed once its lock has lapsed, never called again. */
  const settleInterrupted = async (p: ProposalRecord) => {
    const holder = await deps.redis.get(lockKey(p));
    if (holder?.endsWith(`:${p.proposal_id}`)) {
      // Its executor may still be at it (a rebalance moved the partition): look again after the lock's lifetime.
      throw unavailable(`proposal ${p.proposal_id} is executing elsewhere; looking again once its lock lapses`);
    }
    await deps.proposals.transition(p.tenant, p.proposal_id, 'failed', {
      actor: 'executor',
      from: ['executing'],
      patch: {
        reason:
          'interrupted: the executor stopped after the call was sent and before its answer was recorded; not run again (the target may have acted: check it)',
      },
    });
  };

  const handle = async (batch: Decoded[]) => {
    // One at a time: the guards count executions, and a service runs one action at a time anyway.
    for (const d of batch) {
      const p = d.value as ProposalRecord;
      if (p.status === 'approved') await execute(p);
    }
    return { rejected: [] };
  };

  return { name: 'execute', groupId: deps.groupId, topics: [TOPICS.proposals.topic], handle };
}

export const execute = defineProcessor({
  name: 'execute',
  needsClickHouse: true,
  config: executeConfig,
  create: (config, s) => {
    const ch = s.clickhouse();
    const policies = new DocumentStore<Policy>(ch, 'remediation_policies');
    const actions = new DocumentStore<Action>(ch, 'actions');
    return executeProcessor({
      proposals: new Proposals(s.redis, s.publisher),
      redis: s.redis,
      policies: () => policies.all(),
      actions: () => actions.all(),
      config,
      groupId: s.groupId,
    });
  },
});
