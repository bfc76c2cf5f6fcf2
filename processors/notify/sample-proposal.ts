import type { ProposalRecord } from '../../schemas/topics.ts';

/**
 * For the notify tests: a rollback proposed for incident inc-42 on checkout,
 * waiting for approval (version 1), and the later versions of the same
 * proposal as platform/proposals.ts makes them (status moved on, version +1).
 */
export function sampleProposal(overrides: Partial<ProposalRecord> = {}): ProposalRecord {
  const created = Date.parse('2024-05-01T12:04:00Z');
  return {
    proposal_id: 'pr-7f3a',
    version: 1,
    tenant: 'acme',
    service: 'checkout',
    trigger: 'incident',
    subject_id: 'inc-42',
    incident_id: 'inc-42',
    policy_id: 'pol-1',
    policy_name: 'roll back a bad deploy',
    action_id: 'act-1',
    action_name: 'Roll back checkout',
    action_kind: 'github_workflow',
    risk: 'high',
    mode: 'approve',
    dry_run: false,
    variables: {
      tenant: 'acme',
      service: 'checkout',
      incident_id: 'inc-42',
      severity: 'critical',
      suspect_version: 'v2.3.1',
      previous_version: 'v2.3.0',
      proposal_id: 'pr-7f3a',
    },
    status: 'proposed',
    reason: null,
    created_at: created,
    updated_at: created,
    expires_at: created + 30 * 60_000,
    verify_within_ms: 15 * 60_000,
    decided_by: null,
    decided_at: null,
    comment: null,
    execution: null,
    ...overrides,
  };
}

/** What the executor records for the dispatch: the request text holds the body, with a token-bearing query for good measure. */
export const sampleExecution = (o: Partial<NonNullable<ProposalRecord['execution']>> = {}): NonNullable<ProposalRecord['execution']> => ({
  started_at: Date.parse('2024-05-01T12:06:00Z'),
  ended_at: Date.parse('2024-05-01T12:06:00.312Z'),
  request:
    'POST https://api.github.com/repos/acme/checkout/actions/workflows/rollback.yml/dispatches?access_token=ghp_leak\n' +
    '{"ref":"main","inputs":{"version":"v2.3.0","signature":"sha256=SECRET-BODY"}}',
  status_code: 204,
  response_excerpt: 'RESPONSE-EXCERPT',
  duration_ms: 312.4,
  error: null,
  ...o,
});

/** Version of each status on the path there: proposed 1; approved, rejected, expired 2; executing, blocked 3; succeeded, failed 4; effective, ineffective 5. */
const VERSION: Record<ProposalRecord['status'], number> = {
  proposed: 1,
  approved: 2,
  rejected: 2,
  expired: 2,
  executing: 3,
  blocked: 3,
  succeeded: 4,
  failed: 4,
  effective: 5,
  ineffective: 5,
};

/** The proposal as it stands at `status`: its version, who decided (slack:U0123), and the execution once it ran. */
export function proposalAt(status: ProposalRecord['status'], overrides: Partial<ProposalRecord> = {}): ProposalRecord {
  const version = VERSION[status];
  const decided = version >= 2 && status !== 'expired' ? { decided_by: 'slack:U0123', decided_at: Date.parse('2024-05-01T12:05:30Z') } : {};
  const ran = version >= 4 ? { execution: sampleExecution() } : {};
  return sampleProposal({ status, version, updated_at: Date.parse('2024-05-01T12:04:00Z') + version * 1000, ...decided, ...ran, ...overrides });
}
