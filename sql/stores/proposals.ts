import type { ClickHouseClient } from '@clickhouse/client';
import { selectRows } from '../rows.ts';

/**
 * What the remediation API reads from ClickHouse: proposals as their latest
 * version (`proposals FINAL`: one row per version, the highest wins) and the
 * audit, newest first. Redis decides a proposal's transitions
 * (platform/proposals.ts); these tables are their history, a moment behind
 * it. Every query names the tenant: another tenant's proposal is not found.
 */
export interface ProposalFilter {
  status?: string;
  service?: string;
  incident_id?: string;
  limit: number;
  /** Keyset pagination: proposals created before this epoch ms. */
  before?: number;
}

/**
 * A proposal's latest version as recorded: the fields of the autopilot.proposals
 * record (ProposalRecord in schemas/topics.ts, which sql/ does not import;
 * a ProposalRecord is one of these).
 */
export interface StoredProposal {
  proposal_id: string;
  version: number;
  tenant: string;
  service: string;
  trigger: string;
  subject_id: string;
  incident_id: string | null;
  policy_id: string;
  policy_name: string;
  action_id: string;
  action_name: string;
  action_kind: string;
  risk: string;
  mode: string;
  dry_run: boolean;
  variables: Record<string, string>;
  status: string;
  reason: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number;
  verify_within_ms: number;
  decided_by: string | null;
  decided_at: number | null;
  comment: string | null;
  execution: {
    started_at: number;
    ended_at: number;
    request: string;
    status_code: number | null;
    response_excerpt: string;
    duration_ms: number;
    error: string | null;
  } | null;
}

/** One audit event as the API shows it: `details` parsed (the topic carries it as JSON text). */
export interface AuditEntry {
  event_id: string;
  at: number;
  actor: string;
  event: string;
  subject_kind: string;
  subject_id: string;
  service: string;
  details: unknown;
}

const PROPOSAL_COLUMNS = `proposal_id, version, tenant, service, trigger, subject_id, incident_id, policy_id, policy_name,
  action_id, action_name, action_kind, risk, mode, dry_run, variables, status, reason,
  toUnixTimestamp64Milli(created_at) AS created_at, toUnixTimestamp64Milli(updated_at) AS updated_at,
  toUnixTimestamp64Milli(expires_at) AS expires_at, verify_within_ms, decided_by,
  toUnixTimestamp64Milli(decided_at) AS decided_at, comment, execution`;

type ProposalRow = Omit<StoredProposal, 'execution'> & { execution: string | null };

export class ProposalStore {
  constructor(private readonly ch: ClickHouseClient) {}

  /** Newest first (created_at, then id). */
  async list(tenant: string, f: ProposalFilter): Promise<StoredProposal[]> {
    // Qualified: the SELECT aliases created_at to epoch ms, and an alias wins over a column in WHERE.
    const where = ['tenant = {tenant:String}'];
    if (f.status !== undefined) where.push('status = {status:String}');
    if (f.service !== undefined) where.push('service = {service:String}');
    if (f.incident_id !== undefined) where.push('incident_id = {incident:String}');
    if (f.before !== undefined) where.push('proposals.created_at < fromUnixTimestamp64Milli({before:Int64})');
    const rows = await selectRows<ProposalRow>(
      this.ch,
      `SELECT ${PROPOSAL_COLUMNS} FROM proposals FINAL WHERE ${where.join(' AND ')}
       ORDER BY proposals.created_at DESC, proposal_id DESC LIMIT {limit:UInt32}`,
      { tenant, status: f.status, service: f.service, incident: f.incident_id, before: f.before, limit: f.limit },
    );
    return rows.map(toProposal);
  }

  async get(tenant: string, id: string): Promise<StoredProposal | undefined> {
    const rows = await selectRows<ProposalRow>(
      this.ch,
      `SELECT ${PROPOSAL_COLUMNS} FROM proposals FINAL WHERE tenant = {tenant:String} AND proposal_id = {id:String}`,
      {
        tenant,
        id,
      },
    );
    return rows[0] && toProposal(rows[0]);
  }

  /** The tenant's audit, newest first; FINAL so a replayed record (same event_id) is one event. */
  async audit(tenant: string, f: { since?: number; subject_id?: string; limit: number }): Promise<AuditEntry[]> {
    const where = ['tenant = {tenant:String}'];
    if (f.since !== undefined) where.push('audit_events.at >= fromUnixTimestamp64Milli({since:Int64})');
    if (f.subject_id !== undefined) where.push('subject_id = {subject:String}');
    const rows = await selectRows<Omit<AuditEntry, 'details'> & { details: string }>(
      this.ch,
      `SELECT event_id, toUnixTimestamp64Milli(at) AS at, actor, event, subject_kind, subject_id, service, details
       FROM audit_events FINAL WHERE ${where.join(' AND ')} ORDER BY audit_events.at DESC, event_id DESC LIMIT {limit:UInt32}`,
      { tenant, since: f.since, subject: f.subject_id, limit: f.limit },
    );
    return rows.map((r) => ({ ...r, at: Number(r.at), details: parseDetails(r.details) }));
  }
}

function toProposal(r: ProposalRow): StoredProposal {
  return {
    ...r,
    version: Number(r.version),
    dry_run: Boolean(r.dry_run),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
    expires_at: Number(r.expires_at),
    verify_within_ms: Number(r.verify_within_ms),
    decided_at: r.decided_at === null ? null : Number(r.decided_at),
    execution: r.execution === null || r.execution === '' ? null : (JSON.parse(r.execution) as StoredProposal['execution']),
  };
}

/** Details are JSON text by contract; one that is not still shows, as text. */
function parseDetails(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
