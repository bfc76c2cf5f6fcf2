import { isoTime } from '../../lib/time.ts';
import type { ProposalRecord, ProposalStatus } from '../../schemas/topics.ts';
import { decisionPath, executionSummary, proposalNews, type ExecutionSummary } from './proposals.ts';

/**
 * The webhook payload for one version of a remediation proposal, shaped as
 * the other payloads (webhook.ts): a `type` to switch on, an `id` that is the
 * same on every retry of this version (`proposal_id:version`), times in ISO
 * 8601. A proposal waiting for approval carries the API calls that decide
 * it, so a receiver (a chat bot, a ticketing system) can offer the choice;
 * they need the tenant's API key, which the payload never carries.
 *
 * The execution is summarised (executionSummary): method, URL, status,
 * duration, error; the request's body and the response excerpt stay out.
 */
export interface ProposalPayload {
  type: `proposal.${ProposalStatus}`;
  id: string;
  tenant: string;
  service: string;
  proposal: Omit<ProposalRecord, 'created_at' | 'updated_at' | 'expires_at' | 'decided_at' | 'execution'> & {
    created_at: string;
    updated_at: string;
    expires_at: string;
    decided_at: string | null;
    execution: (Omit<ExecutionSummary, 'started_at' | 'ended_at'> & { started_at: string; ended_at: string }) | null;
  };
  incident_url: string | null;
  /** Present while the proposal waits for a decision (status proposed, mode approve); null otherwise. */
  approve: DecisionCall | null;
  reject: DecisionCall | null;
}

export interface DecisionCall {
  method: 'POST';
  /** `/v1/proposals/{id}/approve` (or `/reject`), with an optional JSON body `{"comment": "…"}`. */
  path: string;
  /** The path on NOTIFY_PUBLIC_URL. */
  url: string;
}

export function proposalPayload(p: ProposalRecord, o: { publicUrl: string; incidentUrl: string | null }): ProposalPayload {
  const decide = proposalNews(p) === 'decision';
  const call = (decision: 'approve' | 'reject'): DecisionCall => {
    const path = decisionPath(p.proposal_id, decision);
    return { method: 'POST', path, url: `${o.publicUrl}${path}` };
  };
  const e = p.execution && executionSummary(p.execution);
  return {
    type: `proposal.${p.status}`,
    id: `${p.proposal_id}:${p.version}`,
    tenant: p.tenant,
    service: p.service,
    proposal: {
      proposal_id: p.proposal_id,
      version: p.version,
      tenant: p.tenant,
      service: p.service,
      status: p.status,
      mode: p.mode,
      dry_run: p.dry_run,
      trigger: p.trigger,
      subject_id: p.subject_id,
      incident_id: p.incident_id,
      policy_id: p.policy_id,
      policy_name: p.policy_name,
      action_id: p.action_id,
      action_name: p.action_name,
      action_kind: p.action_kind,
      risk: p.risk,
      variables: p.variables,
      reason: p.reason,
      created_at: isoTime(p.created_at),
      updated_at: isoTime(p.updated_at),
      expires_at: isoTime(p.expires_at),
      verify_within_ms: p.verify_within_ms,
      decided_by: p.decided_by,
      decided_at: p.decided_at === null ? null : isoTime(p.decided_at),
      comment: p.comment,
      execution: e ? { ...e, started_at: isoTime(e.started_at), ended_at: isoTime(e.ended_at) } : null,
    },
    incident_url: o.incidentUrl,
    approve: decide ? call('approve') : null,
    reject: decide ? call('reject') : null,
  };
}
