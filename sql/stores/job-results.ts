import type { ClickHouseClient } from '@clickhouse/client';
import { selectRows } from '../rows.ts';

/**
 * What scheduled jobs produced, as the jobs API reads it: runs (job_runs),
 * run counts, extractions, and the current state of third-party status
 * pages (the latest change of each subject in external_status_changes).
 * Every query names the tenant.
 */
export interface JobRunRow {
  run_id: string;
  job_id: string;
  job_name: string;
  kind: string;
  trigger: string;
  scheduled_at: number;
  started_at: number;
  ended_at: number;
  outcome: string;
  error: string | null;
  items: number;
  details: Record<string, unknown>;
  scheduler: string;
}

export interface RunCounts {
  total: number;
  success: number;
  failure: number;
  timeout: number;
  skipped: number;
  last_run_at: number | null;
  last_outcome: string | null;
}

export interface ExtractionRow {
  extraction_id: string;
  job_id: string;
  run_id: string;
  url: string;
  model: string | null;
  status: string;
  result: unknown;
  quality: number | null;
  quality_details: Record<string, unknown>;
  raw_answer: string | null;
  error: string | null;
  duration_ms: number;
  at: number;
}

export interface ExternalSubjectState {
  provider: string;
  subject_kind: string;
  subject_id: string;
  subject_name: string;
  status: string;
  degraded: boolean;
  impact: string;
  message: string;
  url: string;
  /** When the latest change of the subject was seen (its state since then, or an update of it). */
  since: number;
  /** The tenant's services mapped to the subject. */
  services: string[];
}

const ms = (column: string) => `toUnixTimestamp64Milli(${column}) AS ${column}`;

export class JobResultStore {
  constructor(private readonly ch: ClickHouseClient) {}

  /** A job's runs, newest first; `before` (a started_at) pages back. */
  async runs(tenant: string, jobId: string, o: { limit: number; outcome?: string; before?: number }): Promise<JobRunRow[]> {
    const rows = await selectRows<Omit<JobRunRow, 'details'> & { details: string }>(
      this.ch,
      `SELECT run_id, job_id, job_name, kind, trigger, ${ms('scheduled_at')}, ${ms('started_at')}, ${ms('ended_at')}, outcome, error, items, details, scheduler
       FROM job_runs FINAL
       WHERE tenant = {tenant:String} AND job_id = {job:String}
         ${o.outcome ? 'AND outcome = {outcome:String}' : ''}
         ${o.before !== undefined ? 'AND job_runs.started_at < fromUnixTimestamp64Milli({before:Int64})' : ''}
       ORDER BY job_runs.started_at DESC, run_id LIMIT {limit:UInt32}`,
      { tenant, job: jobId, outcome: o.outcome, before: o.before, limit: o.limit },
    );
    return rows.map((r) => ({
      ...r,
      started_at: Number(r.started_at),
      ended_at: Number(r.ended_at),
      scheduled_at: Number(r.scheduled_at),
      details: parseJson(r.details),
    }));
  }

  /** Run counts by outcome of each of the tenant's jobs that has run. */
  async counts(tenant: string, jobIds?: string[]): Promise<Map<string, RunCounts>> {
    const rows = await selectRows<{
      job_id: string;
      total: string;
      success: string;
      failure: string;
      timeout: string;
      skipped: string;
      last_run_at: string;
      last_outcome: string;
    }>(
      this.ch,
      `SELECT job_id, count() AS total, countIf(outcome = 'success') AS success, countIf(outcome = 'failure') AS failure,
              countIf(outcome = 'timeout') AS timeout, countIf(outcome = 'skipped') AS skipped,
              toUnixTimestamp64Milli(max(started_at)) AS last_run_at, argMax(outcome, started_at) AS last_outcome
       FROM job_runs FINAL WHERE tenant = {tenant:String} ${jobIds ? 'AND job_id IN {ids:Array(String)}' : ''}
       GROUP BY job_id`,
      { tenant, ids: jobIds },
    );
    return new Map(
      rows.map((r) => [
        r.job_id,
        {
          total: Number(r.total),
          success: Number(r.success),
          failure: Number(r.failure),
          timeout: Number(r.timeout),
          skipped: Number(r.skipped),
          last_run_at: Number(r.last_run_at),
          last_outcome: r.last_outcome,
        },
      ]),
    );
  }

  async extractions(tenant: string, o: { limit: number; jobId?: string; status?: string; before?: number }): Promise<ExtractionRow[]> {
    const rows = await selectRows<Omit<ExtractionRow, 'result' | 'quality_details'> & { result: string | null; quality_details: string }>(
      this.ch,
      `SELECT extraction_id, job_id, run_id, url, model, status, result, quality, quality_details, raw_answer, error, duration_ms, ${ms('at')}
       FROM extractions FINAL
       WHERE tenant = {tenant:String}
         ${o.jobId ? 'AND job_id = {job:String}' : ''}
         ${o.status ? 'AND status = {status:String}' : ''}
         ${o.before !== undefined ? 'AND extractions.at < fromUnixTimestamp64Milli({before:Int64})' : ''}
       ORDER BY extractions.at DESC, extraction_id LIMIT {limit:UInt32}`,
      { tenant, job: o.jobId, status: o.status, before: o.before, limit: o.limit },
    );
    return rows.map((r) => ({ ...r, at: Number(r.at), result: r.result === null ? null : parseJson(r.result), quality_details: parseJson(r.quality_details) }));
  }

  /**
   * Every watched subject's latest state (resolved incidents for a day after), providers in name order,
   * degraded subjects first within each.
   */
  async externalStatus(tenant: string, provider?: string): Promise<ExternalSubjectState[]> {
    const rows = await selectRows<Omit<ExternalSubjectState, 'since'> & { since: string }>(
      this.ch,
      `WITH latest AS (
         SELECT provider, subject_kind, subject_id,
                argMax(subject_name, at) AS subject_name, argMax(to_status, at) AS status, argMax(degraded, at) AS degraded,
                argMax(impact, at) AS impact, argMax(message, at) AS message, argMax(url, at) AS url, max(at) AS last_at
         FROM external_status_changes FINAL
         WHERE tenant = {tenant:String} ${provider ? 'AND provider = {provider:String}' : ''}
         GROUP BY provider, subject_kind, subject_id
         -- A resolved incident or a finished maintenance stays listed for a day, then only the history has it.
         HAVING NOT (subject_kind IN ('incident', 'maintenance') AND NOT degraded AND last_at < now64(3) - INTERVAL 1 DAY)
       )
       SELECT l.provider AS provider, l.subject_kind AS subject_kind, l.subject_id AS subject_id, l.subject_name AS subject_name,
              l.status AS status, l.degraded AS degraded, l.impact AS impact, l.message AS message, l.url AS url,
              toUnixTimestamp64Milli(l.last_at) AS since,
              arraySort(groupUniqArrayIf(c.service, c.service != '')) AS services
       FROM latest AS l
       LEFT JOIN (SELECT provider, subject_kind, subject_id, at, service FROM external_status_changes FINAL WHERE tenant = {tenant:String}) AS c
         ON c.provider = l.provider AND c.subject_kind = l.subject_kind AND c.subject_id = l.subject_id AND c.at = l.last_at
       GROUP BY provider, subject_kind, subject_id, subject_name, status, degraded, impact, message, url, since
       ORDER BY provider, degraded DESC, subject_kind, subject_name`,
      { tenant, provider },
    );
    return rows.map((r) => ({ ...r, degraded: Boolean(r.degraded), since: Number(r.since) }));
  }
}

function parseJson(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { unparsed: text };
  }
}
