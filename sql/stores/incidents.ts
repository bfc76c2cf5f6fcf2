import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { selectRows } from '../rows.ts';

/**
 * What the incidents API reads: the current version of each incident
 * (`incidents FINAL`), its latest analysis and its feedback. Every query is
 * parameterized and names the tenant, so another tenant's incident is simply
 * not found.
 */
export interface IncidentFilter {
  service?: string;
  status?: 'open' | 'resolved';
  since?: number;
  limit: number;
  /** Keyset pagination: the (opened_at, incident_id) the previous page ended at. */
  after?: { opened_at: number; incident_id: string };
}

export interface IncidentSummary {
  incident_id: string;
  service: string;
  status: string;
  severity: string;
  version: number;
  opened_at: number;
  updated_at: number;
  resolved_at: number | null;
  signal_count: number;
  suspect_deployment: { id: string; version: string | null; minutes_before: number | null } | null;
}

export interface IncidentDetail extends IncidentSummary {
  signals: { id: string; kind: string; at: number; summary: string; severity: string | null }[];
  analysis: Record<string, unknown> | null;
  feedback: { count: number; helpful: number };
}

/** An analysis as the console's live feed announces it (GET /v1/live). */
export interface AnalysisNotice {
  incident_id: string;
  analysis_id: string;
  source: string;
  root_cause: string;
  root_cause_confidence: number;
  created_at: number;
}

/**
 * A proposal version as the console's live feed announces it (GET /v1/live):
 * the fields of GET /v1/incidents/{id}'s `proposals` items, and what places
 * the version (incident_id is null for a proposal an alert triggered).
 */
export interface ProposalNotice {
  proposal_id: string;
  incident_id: string | null;
  service: string;
  action_id: string;
  action_name: string;
  mode: string;
  status: string;
  version: number;
  updated_at: number;
}

const SUMMARY_COLUMNS = `incident_id, service, status, severity, version,
  toUnixTimestamp64Milli(opened_at) AS opened_at, toUnixTimestamp64Milli(updated_at) AS updated_at,
  toUnixTimestamp64Milli(resolved_at) AS resolved_at, signal_count,
  suspect_deployment, suspect_version, suspect_minutes_before`;

type SummaryRow = Omit<IncidentSummary, 'suspect_deployment'> & {
  suspect_deployment: string | null;
  suspect_version: string | null;
  suspect_minutes_before: number | null;
};

export class IncidentStore {
  constructor(private readonly ch: ClickHouseClient) {}

  async list(tenant: string, f: IncidentFilter): Promise<IncidentSummary[]> {
    // Columns qualified: the SELECT aliases opened_at and updated_at to epoch ms, and an alias wins over a column.
    const where = ['tenant = {tenant:String}'];
    if (f.service !== undefined) where.push('service = {service:String}');
    if (f.status !== undefined) where.push('status = {status:String}');
    if (f.since !== undefined) where.push('incidents.updated_at >= fromUnixTimestamp64Milli({since:Int64})');
    if (f.after) where.push('(incidents.opened_at, incident_id) < (fromUnixTimestamp64Milli({after_at:Int64}), {after_id:String})');
    const rows = await this.rows<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM incidents FINAL WHERE ${where.join(' AND ')} ORDER BY incidents.opened_at DESC, incident_id DESC LIMIT {limit:UInt32}`,
      { tenant, service: f.service, status: f.status, since: f.since, after_at: f.after?.opened_at, after_id: f.after?.incident_id, limit: f.limit },
    );
    return rows.map(toSummary);
  }

  async get(tenant: string, incidentId: string): Promise<IncidentDetail | undefined> {
    const rows = await this.rows<SummaryRow & { signals: string }>(
      `SELECT ${SUMMARY_COLUMNS}, signals FROM incidents FINAL WHERE tenant = {tenant:String} AND incident_id = {id:String}`,
      { tenant, id: incidentId },
    );
    const row = rows[0];
    if (!row) return undefined;
    const [analysis] = await this.rows<Record<string, unknown> & { recommended_actions: string }>(
      `SELECT analysis_id, source, model, prompt_name, prompt_version, experiment_id, variant, fallback_reason, duration_ms,
              toUnixTimestamp64Milli(created_at) AS created_at, root_cause, root_cause_confidence, root_cause_reasoning,
              recommended_actions, severity, estimated_customer_impact
       FROM analyses FINAL WHERE tenant = {tenant:String} AND incident_id = {id:String} ORDER BY created_at DESC LIMIT 1`,
      { tenant, id: incidentId },
    );
    const [feedback] = await this.rows<{ count: string; helpful: string }>(
      'SELECT count() AS count, countIf(helpful) AS helpful FROM incident_feedback FINAL WHERE tenant = {tenant:String} AND incident_id = {id:String}',
      { tenant, id: incidentId },
    );
    return {
      ...toSummary(row),
      signals: JSON.parse(row.signals),
      analysis: analysis ? { ...analysis, created_at: Number(analysis.created_at), recommended_actions: JSON.parse(analysis.recommended_actions) } : null,
      feedback: { count: Number(feedback?.count ?? 0), helpful: Number(feedback?.helpful ?? 0) },
    };
  }

  async exists(tenant: string, incidentId: string): Promise<boolean> {
    const rows = await this.rows('SELECT 1 FROM incidents WHERE tenant = {tenant:String} AND incident_id = {id:String} LIMIT 1', { tenant, id: incidentId });
    return rows.length > 0;
  }

  async addFeedback(tenant: string, incidentId: string, input: { helpful: boolean; comment?: string }): Promise<{ feedback_id: string; created_at: number }> {
    const row = { feedback_id: randomUUID(), tenant, incident_id: incidentId, helpful: input.helpful, comment: input.comment ?? null, created_at: Date.now() };
    await this.ch.insert({ table: 'incident_feedback', values: [row], format: 'JSONEachRow' });
    return { feedback_id: row.feedback_id, created_at: row.created_at };
  }

  /**
   * Per experiment variant: incidents analysed, feedback received, and how
   * much of it said helpful. Each feedback is one trial of the variant that
   * analysed the incident.
   */
  async experimentCounts(tenant: string, experimentId: string): Promise<{ variant: string; incidents: number; feedback: number; helpful: number }[]> {
    const rows = await this.rows<{ variant: string; incidents: string; feedback: string; helpful: string }>(
      `WITH assigned AS (
         SELECT incident_id, any(variant) AS arm FROM analyses FINAL
         WHERE tenant = {tenant:String} AND experiment_id = {id:String} AND variant IS NOT NULL GROUP BY incident_id
       )
       SELECT a.arm AS variant, uniqExact(a.incident_id) AS incidents, countIf(f.feedback_id != '') AS feedback, countIf(f.helpful) AS helpful
       FROM assigned AS a
       LEFT JOIN (SELECT incident_id, feedback_id, helpful FROM incident_feedback FINAL WHERE tenant = {tenant:String}) AS f
         ON f.incident_id = a.incident_id -- unmatched rows get '' and false (no join_use_nulls), hence the countIf
       GROUP BY a.arm`,
      { tenant, id: experimentId },
    );
    return rows.map((r) => ({ variant: r.variant, incidents: Number(r.incidents), feedback: Number(r.feedback), helpful: Number(r.helpful) }));
  }

  private rows<T>(query: string, params: Record<string, unknown>): Promise<T[]> {
    return selectRows<T>(this.ch, query, params);
  }
}

/**
 * What changed in every tenant's incidents, analyses and proposals since a moment: what
 * the console's live feed (gateway/live-feed.ts) polls and fans out by
 * tenant. A class of its own: the incidents API never reads across tenants.
 */
export class IncidentChanges {
  constructor(private readonly ch: ClickHouseClient) {}

  /**
   * Every version of any tenant's incidents written (inserted: written_at)
   * after `after`, epoch ms, oldest first. Not FINAL: each version is news,
   * and a row written twice comes twice (the feed dedupes).
   */
  async versionsWrittenAfter(after: number): Promise<{ tenant: string; written_at: number; incident: IncidentSummary }[]> {
    const rows = await selectRows<SummaryRow & { tenant: string; written_at: string }>(
      this.ch,
      `SELECT tenant, toUnixTimestamp64Milli(written_at) AS written_at, ${SUMMARY_COLUMNS}
         FROM incidents WHERE incidents.written_at > fromUnixTimestamp64Milli({after:Int64}) ORDER BY written_at, incident_id, version`,
      { after },
    );
    return rows.map((r) => ({ tenant: r.tenant, written_at: Number(r.written_at), incident: toSummary(r) }));
  }

  /** Any tenant's analyses created after `after`, epoch ms, oldest first (analyses record no insert time). */
  async analysesCreatedAfter(after: number): Promise<{ tenant: string; analysis: AnalysisNotice }[]> {
    const rows = await selectRows<Omit<AnalysisNotice, 'created_at'> & { tenant: string; created_at: string }>(
      this.ch,
      `SELECT tenant, incident_id, analysis_id, source, root_cause, root_cause_confidence, toUnixTimestamp64Milli(created_at) AS created_at
         FROM analyses WHERE analyses.created_at > fromUnixTimestamp64Milli({after:Int64}) ORDER BY created_at, analysis_id`,
      { after },
    );
    return rows.map(({ tenant, ...a }) => ({ tenant, analysis: { ...a, created_at: Number(a.created_at) } }));
  }

  /**
   * Every version of any tenant's proposals updated after `after`, epoch ms,
   * oldest first (proposals record no insert time; updated_at is when the
   * change was made). Not FINAL: each version is news (the feed dedupes).
   */
  async proposalsUpdatedAfter(after: number): Promise<{ tenant: string; proposal: ProposalNotice }[]> {
    const rows = await selectRows<ProposalNotice & { tenant: string }>(
      this.ch,
      `SELECT tenant, proposal_id, incident_id, service, action_id, action_name, mode, status, version,
              toUnixTimestamp64Milli(updated_at) AS updated_at
         FROM proposals WHERE proposals.updated_at > fromUnixTimestamp64Milli({after:Int64}) ORDER BY updated_at, proposal_id, version`,
      { after },
    );
    return rows.map(({ tenant, ...p }) => ({ tenant, proposal: { ...p, version: Number(p.version), updated_at: Number(p.updated_at) } }));
  }
}

function toSummary(r: SummaryRow): IncidentSummary {
  return {
    incident_id: r.incident_id,
    service: r.service,
    status: r.status,
    severity: r.severity,
    version: Number(r.version),
    opened_at: Number(r.opened_at),
    updated_at: Number(r.updated_at),
    resolved_at: r.resolved_at === null ? null : Number(r.resolved_at),
    signal_count: Number(r.signal_count),
    suspect_deployment: r.suspect_deployment ? { id: r.suspect_deployment, version: r.suspect_version, minutes_before: r.suspect_minutes_before } : null,
  };
}
