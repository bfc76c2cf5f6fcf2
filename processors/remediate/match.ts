import { createHash } from 'node:crypto';
import { scaleRank } from '../../lib/severity.ts';
import type { AlertRecord, AnalysisRecord, IncidentRecord, ProposalRecord } from '../../schemas/topics.ts';
import type { StoredDocument } from '../../sql/stores/documents.ts';
import type { Action } from '../../tenant-config/actions.ts';
import { durationMs } from '../../tenant-config/duration.ts';
import type { Policy } from '../../tenant-config/remediation-policies.ts';

/** What a policy is matched against: an incident, a firing alert or an analysis, as the facts a proposal needs. */
export interface Occasion {
  trigger: ProposalRecord['trigger'];
  tenant: string;
  service: string;
  subject_id: string;
  incident_id: string | null;
  severity: string;
  suspect_version: string | null;
  alert_name: string | null;
  root_cause: string | null;
  at: number;
}

export function incidentOccasion(i: IncidentRecord): Occasion {
  return {
    trigger: 'incident',
    tenant: i.tenant,
    service: i.service,
    subject_id: i.incident_id,
    incident_id: i.incident_id,
    severity: i.severity,
    suspect_version: i.suspect_deployment?.version ?? null,
    alert_name: null,
    root_cause: null,
    at: i.updated_at,
  };
}

export function alertOccasion(a: AlertRecord): Occasion {
  return {
    trigger: 'alert',
    tenant: a.tenant,
    service: a.service,
    subject_id: a.alert_id,
    incident_id: null,
    // Alert severities are warning | critical; on the incident scale a warning is high.
    severity: a.severity === 'critical' ? 'critical' : a.severity === 'warning' ? 'high' : 'medium',
    suspect_version: null,
    alert_name: a.alert_name,
    root_cause: null,
    at: a.received_at,
  };
}

export function analysisOccasion(a: AnalysisRecord, suspectVersion: string | null): Occasion {
  return {
    trigger: 'analysis',
    tenant: a.tenant,
    service: a.service,
    subject_id: a.analysis_id,
    incident_id: a.incident_id,
    severity: a.incident_severity,
    suspect_version: suspectVersion,
    alert_name: null,
    root_cause: a.root_cause.description,
    at: a.created_at,
  };
}

/** Whether `policy` asks for a proposal on this occasion. */
export function matches(policy: Policy, o: Occasion): boolean {
  const m = policy.match;
  if (!policy.enabled || policy.on !== o.trigger) return false;
  if (m.services && !m.services.includes(o.service)) return false;
  if (m.min_severity && scaleRank(o.severity) < scaleRank(m.min_severity)) return false;
  if (m.suspect_deployment !== undefined && (o.suspect_version !== null) !== m.suspect_deployment) return false;
  if (m.alert_name && m.alert_name !== o.alert_name) return false;
  if (m.root_cause_contains && !(o.root_cause ?? '').toLowerCase().includes(m.root_cause_contains.toLowerCase())) return false;
  return true;
}

/** One proposal per policy and subject, whichever process or replay makes it. */
export function proposalId(tenant: string, policyId: string, subjectId: string): string {
  return `prop_${createHash('sha256').update(`${tenant}\u0000${policyId}\u0000${subjectId}`).digest('hex').slice(0, 24)}`;
}

/** The proposal a matching policy makes (version 1, proposed). */
export function proposalFor(
  o: Occasion,
  policy: StoredDocument<Policy>,
  action: StoredDocument<Action>,
  previousVersion: string | null,
  now: number,
): ProposalRecord {
  const id = proposalId(o.tenant, policy.id, o.subject_id);
  const def = policy.definition;
  const facts: Record<string, string | null> = {
    tenant: o.tenant,
    service: o.service,
    incident_id: o.incident_id,
    severity: o.severity,
    suspect_version: o.suspect_version,
    previous_version: previousVersion,
    proposal_id: id,
  };
  const variables = { ...def.variables, ...Object.fromEntries(Object.entries(facts).filter((e): e is [string, string] => e[1] !== null)) };
  return {
    proposal_id: id,
    version: 1,
    tenant: o.tenant,
    service: o.service,
    trigger: o.trigger,
    subject_id: o.subject_id,
    incident_id: o.incident_id,
    policy_id: policy.id,
    policy_name: def.name,
    action_id: action.id,
    action_name: action.definition.name,
    action_kind: action.definition.kind,
    risk: action.definition.risk,
    mode: def.mode,
    dry_run: def.dry_run,
    variables,
    status: 'proposed',
    reason: null,
    created_at: now,
    updated_at: now,
    expires_at: now + durationMs(def.ttl),
    verify_within_ms: durationMs(def.verify_within),
    decided_by: null,
    decided_at: null,
    comment: null,
    execution: null,
  };
}
