import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AutopilotError, unavailable } from '../lib/errors.ts';
import type { AuditEvent, ProposalRecord, ProposalStatus } from '../schemas/topics.ts';
import type { Publisher } from './publisher.ts';

/**
 * Remediation proposals' state, shared by the gateway (approve, reject), the
 * remediate processor (propose, expire, judge) and the executor. Redis holds
 * each proposal's current version and decides every transition with a
 * compare-and-set, so two approvers, an approval racing the expiry, or two
 * executors cannot both win; the winner publishes the new version to
 * autopilot.proposals (its history in ClickHouse, and the executor's cue)
 * and an audit event. If that publish fails the transition is undone, so
 * Redis never holds a state nobody was told about (the caller gets a 503 and
 * may retry).
 *
 * The executor's exactly-once rests on this: it runs an approved proposal
 * only after winning approved → executing, and a proposal found in
 * `executing` again (its executor died between the call and the record) is
 * failed as interrupted, never called a second time.
 */
export const TRANSITIONS: Record<ProposalStatus, readonly ProposalStatus[]> = {
  proposed: ['approved', 'rejected', 'expired'],
  approved: ['executing', 'blocked'],
  executing: ['succeeded', 'failed'],
  succeeded: ['effective', 'ineffective'],
  rejected: [],
  expired: [],
  failed: [],
  blocked: [],
  effective: [],
  ineffective: [],
};

/** Kept this long after the last change; the history stays in ClickHouse. */
const KEEP_MS = 30 * 86_400_000;
const CAS = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end`;

const key = (tenant: string, id: string) => `remediation:proposal:${tenant}:${id}`;
const member = (tenant: string, id: string) => `${tenant}\u0000${id}`;
export const PENDING = 'remediation:pending';
export const VERIFYING = 'remediation:verifying';
const byIncident = (tenant: string, incident: string) => `remediation:incident:${tenant}:${incident}`;

export type TransitionResult = { ok: true; proposal: ProposalRecord } | { ok: false; current: ProposalRecord | undefined };

export class Proposals {
  constructor(
    private readonly redis: Redis,
    private readonly publisher: Publisher,
  ) {}

  async get(tenant: string, id: string): Promise<ProposalRecord | undefined> {
    const text = await this.redis.get(key(tenant, id));
    return text === null ? undefined : (JSON.parse(text) as ProposalRecord);
  }

  /** Records a new proposal (version 1) once: false when it exists already (a replayed incident). */
  async propose(p: ProposalRecord, actor: string): Promise<boolean> {
    const k = key(p.tenant, p.proposal_id);
    if ((await this.redis.set(k, JSON.stringify(p), 'PX', KEEP_MS, 'NX')) !== 'OK') return false;
    try {
      await this.publish(p, actor, p.status, { policy: p.policy_name, action: p.action_name, mode: p.mode, variables: p.variables });
    } catch (err) {
      await this.redis.del(k);
      throw err;
    }
    await this.index(p);
    return true;
  }

  /**
   * Moves a proposal to `to` if its current status allows it, with `patch`
   * applied and the version bumped; `from` narrows the statuses it may leave.
   */
  async transition(
    tenant: string,
    id: string,
    to: ProposalStatus,
    o: { actor: string; patch?: Partial<ProposalRecord>; from?: readonly ProposalStatus[]; details?: Record<string, unknown>; now?: number },
  ): Promise<TransitionResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = await this.redis.get(key(tenant, id));
      if (before === null) return { ok: false, current: undefined };
      const current = JSON.parse(before) as ProposalRecord;
      if (!TRANSITIONS[current.status].includes(to) || (o.from && !o.from.includes(current.status))) return { ok: false, current };
      const next: ProposalRecord = { ...current, ...o.patch, status: to, version: current.version + 1, updated_at: o.now ?? Date.now() };
      const text = JSON.stringify(next);
      if ((await this.redis.eval(CAS, 1, key(tenant, id), before, text, KEEP_MS)) !== 1) continue; // changed meanwhile: decide again
      try {
        await this.publish(next, o.actor, to, {
          from: current.status,
          ...(next.reason ? { reason: next.reason } : {}),
          ...(next.comment ? { comment: next.comment } : {}),
          ...o.details,
        });
      } catch (err) {
        await this.redis.eval(CAS, 1, key(tenant, id), text, before, KEEP_MS);
        throw err;
      }
      await this.index(next);
      return { ok: true, proposal: next };
    }
    throw unavailable(`proposal ${id} keeps changing; try again`);
  }

  /** Proposals waiting for a decision past their expiry. */
  async expired(now: number, limit = 500): Promise<{ tenant: string; id: string }[]> {
    return (await this.redis.zrangebyscore(PENDING, 0, now, 'LIMIT', 0, limit)).map(split);
  }

  /** Succeeded proposals whose verification window has passed. */
  async unverified(now: number, limit = 500): Promise<{ tenant: string; id: string }[]> {
    return (await this.redis.zrangebyscore(VERIFYING, 0, now, 'LIMIT', 0, limit)).map(split);
  }

  /** The ids of the proposals made for an incident. */
  async forIncident(tenant: string, incident: string): Promise<string[]> {
    return this.redis.smembers(byIncident(tenant, incident));
  }

  /** An audit event on its own (configuration changes), published before the caller answers. */
  async audit(e: Omit<AuditEvent, 'event_id' | 'at'> & { at?: number }): Promise<void> {
    await this.publisher.publish('audit', [{ event_id: randomUUID(), at: e.at ?? Date.now(), ...e }]);
  }

  private async publish(p: ProposalRecord, actor: string, event: string, details: Record<string, unknown>): Promise<void> {
    const audit: AuditEvent = {
      // One event per proposal version: a replayed publish is the same row.
      event_id: `${p.proposal_id}:${p.version}`,
      tenant: p.tenant,
      at: p.updated_at,
      actor,
      event,
      subject_kind: 'proposal',
      subject_id: p.proposal_id,
      service: p.service,
      details: JSON.stringify(details),
    };
    try {
      await this.publisher.publishAll([
        { kind: 'proposals', records: [p] },
        { kind: 'audit', records: [audit] },
      ]);
    } catch (err) {
      throw err instanceof AutopilotError ? err : unavailable(`proposal ${p.proposal_id} not recorded: Kafka did not acknowledge`, err);
    }
  }

  /** Keeps the sweeps' indexes in step with a proposal's status. */
  private async index(p: ProposalRecord): Promise<void> {
    const m = member(p.tenant, p.proposal_id);
    const tx = this.redis.multi();
    if (p.status === 'proposed') tx.zadd(PENDING, p.expires_at, m);
    else tx.zrem(PENDING, m);
    if (p.status === 'succeeded') tx.zadd(VERIFYING, (p.execution?.ended_at ?? p.updated_at) + p.verify_within_ms, m);
    else tx.zrem(VERIFYING, m);
    if (p.incident_id) tx.sadd(byIncident(p.tenant, p.incident_id), p.proposal_id).pexpire(byIncident(p.tenant, p.incident_id), KEEP_MS);
    await tx.exec();
  }
}

function split(m: string): { tenant: string; id: string } {
  const i = m.indexOf('\u0000');
  return { tenant: m.slice(0, i), id: m.slice(i + 1) };
}
