import type { ProposalRecord, ProposalStatus } from '../../schemas/topics.ts';
import type { StoredDocument } from '../../sql/stores/documents.ts';
import { wantsSeverity, type NotificationTarget } from '../../tenant-config/notification-targets.ts';
import type { RemediationSettings } from '../../tenant-config/remediation-policies.ts';

/**
 * Which versions of a remediation proposal people hear about, and where.
 *
 * - `proposed`: with mode `approve`, a request for a decision (Slack buttons,
 *   the API's approve/reject paths for webhooks); with `suggest`, the same
 *   without buttons; with `auto`, nothing yet: it runs at once, and its
 *   outcome is the news.
 * - the outcomes: `succeeded`, `failed`, `blocked`, then `effective` or
 *   `ineffective`; and the ends without a run, `rejected` and `expired`.
 * - `approved` and `executing`: nothing; the outcome follows within seconds,
 *   and the approver knows already.
 *
 * A suggestion's expiry is left out: nobody could act on it, so "it expired"
 * says nothing.
 */
export type ProposalNews = 'decision' | 'suggestion' | 'outcome';

const OUTCOMES: ReadonlySet<ProposalStatus> = new Set(['succeeded', 'failed', 'blocked', 'effective', 'ineffective', 'rejected', 'expired']);

export function proposalNews(p: Pick<ProposalRecord, 'status' | 'mode'>): ProposalNews | null {
  if (p.status === 'proposed') return p.mode === 'approve' ? 'decision' : p.mode === 'suggest' ? 'suggestion' : null;
  if (p.mode === 'suggest' && p.status === 'expired') return null;
  return OUTCOMES.has(p.status) ? 'outcome' : null;
}

/**
 * The targets a proposal's messages go to, every version to the same ones:
 * the Slack target the tenant's remediation settings name
 * (`slack_target_id`), whatever its severity filter, since it was chosen for
 * exactly this; without one (or when it is gone or disabled), every enabled
 * target, filtered as an incident's notification is, by the incident's
 * severity when the proposal carries it (`variables.severity`).
 */
export function proposalTargets<T extends Pick<StoredDocument<NotificationTarget>, 'id' | 'definition'>>(
  targets: T[],
  settings: Pick<RemediationSettings, 'slack_target_id'> | undefined,
  severity: string | undefined,
): T[] {
  const named = settings?.slack_target_id === undefined ? undefined : targets.find((t) => t.id === settings.slack_target_id && t.definition.enabled);
  if (named) return [named];
  return targets.filter((t) => t.definition.enabled && (severity === undefined || wantsSeverity(t.definition, severity)));
}

/**
 * What a run did, fit to show anyone who reads the channel: the call's
 * method and URL and its answer, never its body or headers (the executor's
 * `request` text carries the body, where a signed payload or a templated
 * value could sit) nor the response excerpt (whatever the remote end chose
 * to echo).
 */
export interface ExecutionSummary {
  method: string | null;
  url: string | null;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  started_at: number;
  ended_at: number;
}

export function executionSummary(e: NonNullable<ProposalRecord['execution']>): ExecutionSummary {
  const call = requestCall(e.request);
  return {
    method: call?.method ?? null,
    url: call?.url ?? null,
    status_code: e.status_code,
    duration_ms: e.duration_ms,
    error: e.error,
    started_at: e.started_at,
    ended_at: e.ended_at,
  };
}

/**
 * The method and URL of the executor's request text, whichever way it is
 * written: an HTTP request line first (`POST https://… [HTTP/1.1]`, the body
 * after it), or a JSON object with `method` and `url`. The URL keeps its
 * origin and path only: credentials, a query string (where tokens hide:
 * `?access_token=`) and a fragment are dropped. Null when neither reads.
 */
export function requestCall(request: string): { method: string; url: string } | null {
  let method: unknown;
  let url: unknown;
  const text = request.trimStart();
  if (text.startsWith('{')) {
    try {
      ({ method, url } = JSON.parse(text) as { method?: unknown; url?: unknown });
    } catch {
      return null;
    }
  } else {
    const line = /^([A-Za-z]{3,7})[ \t]+(\S+)/.exec(text);
    [method, url] = [line?.[1], line?.[2]];
  }
  if (typeof method !== 'string' || !/^[A-Za-z]{3,7}$/.test(method) || typeof url !== 'string') return null;
  const shown = originAndPath(url);
  return shown === null ? null : { method: method.toUpperCase(), url: shown };
}

function originAndPath(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return `${u.origin}${u.pathname}`;
  } catch {
    return null;
  }
}

/** The API paths that decide a proposal (gateway: `POST /v1/proposals/{id}/approve|reject`). */
export const decisionPath = (proposalId: string, decision: 'approve' | 'reject') => `/v1/proposals/${encodeURIComponent(proposalId)}/${decision}`;
