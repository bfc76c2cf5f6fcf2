import { randomBytes, randomUUID } from 'node:crypto';
import { SecretBox } from '../../lib/secrets.ts';
import type { ProposalRecord } from '../../schemas/topics.ts';
import type { routeTestApp } from './gateway-app.ts';

/**
 * What the remediation route tests share: a secret box with a fresh key, a
 * proposal as the remediate processor would make one, and the sink's part
 * (what reached the stub publisher put into the memory ClickHouse stand-in).
 * Their redis-server is redis-server.ts's throwawayRedisPerFile.
 */

export const testSecretBox = () => SecretBox.fromKey(randomBytes(32));

export function proposalRecord(tenant: string, over: Partial<ProposalRecord> = {}): ProposalRecord {
  const now = Date.now();
  return {
    proposal_id: randomUUID(),
    version: 1,
    tenant,
    service: 'checkout',
    trigger: 'incident',
    subject_id: 'inc_1',
    incident_id: 'inc_1',
    policy_id: 'pol-1',
    policy_name: 'roll back bad deploys',
    action_id: 'act-1',
    action_name: 'rollback',
    action_kind: 'github_workflow',
    risk: 'medium',
    mode: 'approve',
    dry_run: false,
    variables: { service: 'checkout', previous_version: 'v41' },
    status: 'proposed',
    reason: null,
    created_at: now,
    updated_at: now,
    expires_at: now + 30 * 60_000,
    verify_within_ms: 15 * 60_000,
    decided_by: null,
    decided_at: null,
    comment: null,
    execution: null,
    ...over,
  };
}

/** What the sink would have written by now: every proposal version and audit event the stub publisher acknowledged. */
export function sinkPublished(t: ReturnType<typeof routeTestApp>): void {
  t.memory.proposals.sink({ proposals: t.publisher.records('proposals'), audit: t.publisher.records('audit') });
}
