import type { ClickHouseClient } from '@clickhouse/client';
import { describeError } from '../../lib/errors.ts';
import { everyInterval } from '../../lib/serial.ts';
import { Proposals } from '../../platform/proposals.ts';
import { TOPICS, type AlertRecord, type AnalysisRecord, type DeploymentEvent, type IncidentRecord } from '../../schemas/topics.ts';
import { DocumentStore, type StoredDocument } from '../../sql/stores/documents.ts';
import type { Action } from '../../tenant-config/actions.ts';
import type { Policy } from '../../tenant-config/remediation-policies.ts';
import { defineProcessor } from '../runtime/factory.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { remediateConfig } from './config.ts';
import { alertOccasion, analysisOccasion, incidentOccasion, matches, proposalFor, type Occasion } from './match.ts';
import { DeploymentHistory, incidentSuspect, previousVersion } from './versions.ts';

/**
 * The remediate processor: incidents, firing alerts and analyses are matched
 * against the tenants' remediation policies, and each match becomes a
 * proposal (platform/proposals.ts), once per policy and subject however often
 * the incident is updated or replayed. An `auto` policy's proposal is
 * approved at once by the policy itself, if its action is still low-risk;
 * otherwise it waits for an approver like any other.
 *
 * It also settles proposals over time: one still waiting past its expiry is
 * expired; an executed one whose incident resolves within the policy's
 * verification window is effective, and one whose window passes first is
 * ineffective. Incidents tell it when they resolve; a sweep every
 * REMEDIATE_SWEEP_SECONDS handles the clock.
 */
export function remediateProcessor(deps: {
  proposals: Proposals;
  deployments: DeploymentHistory;
  ch: ClickHouseClient;
  policies: () => Promise<StoredDocument<Policy>[]>;
  actions: () => Promise<StoredDocument<Action>[]>;
  refreshMs: number;
  sweepMs: number;
  groupId: string;
  log: { warn(o: object, msg: string): void };
}): ProcessorSpec {
  let cached: { at: number; policies: StoredDocument<Policy>[]; actions: Map<string, StoredDocument<Action>> } | undefined;
  const config = async () => {
    if (!cached || Date.now() - cached.at >= deps.refreshMs) {
      const [policies, actions] = await Promise.all([deps.policies(), deps.actions()]);
      cached = { at: Date.now(), policies, actions: new Map(actions.map((a) => [`${a.tenant}\u0000${a.id}`, a])) };
    }
    return cached;
  };

  const propose = async (o: Occasion) => {
    const { policies, actions } = await config();
    for (const policy of policies) {
      if (policy.tenant !== o.tenant || !matches(policy.definition, o)) continue;
      const action = actions.get(`${o.tenant}\u0000${policy.definition.action_id}`);
      if (!action) {
        deps.log.warn(
          { tenant: o.tenant, policy_id: policy.id, action_id: policy.definition.action_id },
          'policy names an action that no longer exists; nothing proposed',
        );
        continue;
      }
      const proposal = proposalFor(o, policy, action, await previousVersion(deps.ch, o.tenant, o.service, o.suspect_version, deps.deployments), Date.now());
      if (!(await deps.proposals.propose(proposal, `policy:${policy.id}`))) continue; // proposed before (a replay, an update)
      if (proposal.mode !== 'auto') continue;
      // Saved as auto for a low-risk action; if the action has since become riskier, a person decides.
      if (action.definition.risk !== 'low') continue;
      await deps.proposals.transition(o.tenant, proposal.proposal_id, 'approved', {
        actor: `policy:${policy.id}`,
        patch: { decided_by: `policy:${policy.id}`, decided_at: Date.now(), comment: 'auto: low-risk action' },
      });
    }
  };

  /** A resolved incident makes its executed proposals effective, if it resolved within their window. */
  const verify = async (i: IncidentRecord) => {
    for (const id of await deps.proposals.forIncident(i.tenant, i.incident_id)) {
      const p = await deps.proposals.get(i.tenant, id);
      if (p?.status !== 'succeeded' || !p.execution || i.resolved_at === null) continue;
      if (i.resolved_at < p.execution.started_at) continue; // resolved before the action: says nothing about it
      const within = i.resolved_at <= p.execution.ended_at + p.verify_within_ms;
      await deps.proposals.transition(i.tenant, id, within ? 'effective' : 'ineffective', {
        actor: 'system',
        patch: {
          reason: `incident resolved ${Math.round((i.resolved_at - p.execution.ended_at) / 1000)} s after the action ${within ? 'within' : 'outside'} its window`,
        },
      });
    }
  };

  const handle = async (batch: Decoded[]) => {
    for (const d of batch) {
      if (d.topic === TOPICS.deployments.topic) {
        await deps.deployments.record(d.value as DeploymentEvent);
      } else if (d.topic === TOPICS.incidents.topic) {
        const i = d.value as IncidentRecord;
        if (i.status === 'open') await propose(incidentOccasion(i));
        else await verify(i);
      } else if (d.topic === TOPICS.alerts.topic) {
        const a = d.value as AlertRecord;
        if (a.status === 'firing') await propose(alertOccasion(a));
      } else {
        const a = d.value as AnalysisRecord;
        await propose(analysisOccasion(a, await incidentSuspect(deps.ch, a.tenant, a.incident_id)));
      }
    }
    return { rejected: [] };
  };

  const sweep = async () => {
    const now = Date.now();
    for (const { tenant, id } of await deps.proposals.expired(now)) {
      await deps.proposals.transition(tenant, id, 'expired', { actor: 'system', patch: { reason: 'no decision before it expired' } });
    }
    for (const { tenant, id } of await deps.proposals.unverified(now)) {
      await deps.proposals.transition(tenant, id, 'ineffective', {
        actor: 'system',
        patch: { reason: 'the incident did not resolve within the verification window' },
      });
    }
  };
  const sweeper = everyInterval(deps.sweepMs, sweep, (err) => deps.log.warn({ err: describeError(err) }, 'remediation sweep failed; the next one retries'));

  return {
    name: 'remediate',
    groupId: deps.groupId,
    topics: [TOPICS.deployments.topic, TOPICS.incidents.topic, TOPICS.alerts.topic, TOPICS.analyses.topic],
    handle,
    close: async () => sweeper.stop(),
  };
}

export const remediate = defineProcessor({
  name: 'remediate',
  needsClickHouse: true,
  config: remediateConfig,
  create: (config, s) => {
    const ch = s.clickhouse();
    const policies = new DocumentStore<Policy>(ch, 'remediation_policies');
    const actions = new DocumentStore<Action>(ch, 'actions');
    return remediateProcessor({
      proposals: new Proposals(s.redis, s.publisher),
      deployments: new DeploymentHistory(s.redis),
      ch,
      policies: () => policies.all(),
      actions: () => actions.all(),
      refreshMs: config.refreshMs,
      sweepMs: config.sweepMs,
      groupId: s.groupId,
      log: s.log,
    });
  },
});
