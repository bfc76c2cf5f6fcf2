import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, ProposalRecord } from '../../schemas/topics.ts';
import { createClickHouse, type ClickHouseClient } from '../client.ts';
import { migrate } from '../migrate.ts';
import { ProposalStore } from './proposals.ts';

/**
 * What the remediation API reads (migrations 0044, 0045) on the embedded
 * ClickHouse: rows put in as the sink writes them (processors/sink/rows.ts:
 * JSONEachRow, times in epoch ms, the execution as JSON text, every version
 * of a proposal a row of its own, replays included), read through the store.
 */
const MIN = 60_000;
const NOW = Math.floor(Date.now() / 1000) * 1000;

let ch: ClickHouseClient;
let store: ProposalStore;
let offset = 0;

beforeAll(async () => {
  ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-proposals-')) });
  await migrate(ch);
  store = new ProposalStore(ch);
});
afterAll(async () => ch?.close());

const sink = {
  proposals: (records: ProposalRecord[]) =>
    ch.insert({
      table: 'proposals',
      format: 'JSONEachRow',
      values: records.map((p) => ({ ...p, execution: p.execution && JSON.stringify(p.execution), kafka_partition: 0, kafka_offset: offset++ })),
    }),
  audit: (events: AuditEvent[]) =>
    ch.insert({ table: 'audit_events', format: 'JSONEachRow', values: events.map((e) => ({ ...e, kafka_partition: 0, kafka_offset: offset++ })) }),
};

const proposal = (id: string, over: Partial<ProposalRecord> = {}): ProposalRecord => ({
  proposal_id: id,
  version: 1,
  tenant: 'acme',
  service: 'checkout',
  trigger: 'incident',
  subject_id: 'inc-1',
  incident_id: 'inc-1',
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
  created_at: NOW - 10 * MIN,
  updated_at: NOW - 10 * MIN,
  expires_at: NOW + 20 * MIN,
  verify_within_ms: 15 * MIN,
  decided_by: null,
  decided_at: null,
  comment: null,
  execution: null,
  ...over,
});

describe('ProposalStore.get and list', () => {
  const execution = {
    started_at: NOW - 5 * MIN,
    ended_at: NOW - 5 * MIN + 420,
    request: 'POST https://api.github.com/repos/acme/shop/actions/workflows/rollback.yml/dispatches',
    status_code: 204,
    response_excerpt: '',
    duration_ms: 420.5,
    error: null,
  };

  beforeAll(async () => {
    const first = proposal('p-1');
    const approved = {
      ...first,
      version: 2,
      status: 'approved' as const,
      decided_by: 'api:alice',
      decided_at: NOW - 6 * MIN,
      comment: 'go',
      updated_at: NOW - 6 * MIN,
    };
    const succeeded = { ...approved, version: 4, status: 'succeeded' as const, execution, updated_at: NOW - 5 * MIN };
    const executing = { ...approved, version: 3, status: 'executing' as const, updated_at: NOW - 5 * MIN };
    // Out of order and one replayed: the highest version is the proposal whatever the order it arrived in.
    await sink.proposals([first, succeeded, approved]);
    await sink.proposals([executing, approved]);
    await sink.proposals([proposal('p-2', { created_at: NOW - 8 * MIN, service: 'search', incident_id: 'inc-2', subject_id: 'inc-2' })]);
    await sink.proposals([proposal('p-3', { created_at: NOW - 2 * MIN, status: 'expired', version: 2, reason: 'nobody decided within 30m' })]);
    await sink.proposals([proposal('p-1', { tenant: 'globex', created_at: NOW - MIN })]);
  });

  it('reads the latest version with its decision and its execution parsed', async () => {
    // Before FINAL (or with the execution left as text) this would be version 1 / a string.
    expect(await store.get('acme', 'p-1')).toEqual({
      ...proposal('p-1'),
      version: 4,
      status: 'succeeded',
      decided_by: 'api:alice',
      decided_at: NOW - 6 * MIN,
      comment: 'go',
      updated_at: NOW - 5 * MIN,
      execution,
    });
  });

  it("is the tenant's: the same id of another tenant is another proposal, an unknown id none", async () => {
    expect((await store.get('globex', 'p-1'))?.status).toBe('proposed');
    expect(await store.get('initech', 'p-1')).toBeUndefined();
    expect(await store.get('acme', 'p-9')).toBeUndefined();
  });

  it('lists newest first, one row per proposal, with each filter', async () => {
    const ids = async (f: Parameters<ProposalStore['list']>[1]) => (await store.list('acme', f)).map((p) => p.proposal_id);
    expect(await ids({ limit: 10 })).toEqual(['p-3', 'p-2', 'p-1']);
    expect(await ids({ limit: 2 })).toEqual(['p-3', 'p-2']);
    expect(await ids({ limit: 10, before: NOW - 2 * MIN })).toEqual(['p-2', 'p-1']);
    expect(await ids({ limit: 10, status: 'succeeded' })).toEqual(['p-1']);
    expect(await ids({ limit: 10, status: 'proposed' })).toEqual(['p-2']); // p-1 was proposed once: its latest version is not
    expect(await ids({ limit: 10, service: 'search' })).toEqual(['p-2']);
    expect(await ids({ limit: 10, incident_id: 'inc-1' })).toEqual(['p-3', 'p-1']);
    expect((await store.list('globex', { limit: 10 })).map((p) => p.proposal_id)).toEqual(['p-1']);
  });
});

describe('ProposalStore.audit', () => {
  const event = (id: string, at: number, over: Partial<AuditEvent> = {}): AuditEvent => ({
    event_id: id,
    tenant: 'acme',
    at,
    actor: 'system',
    event: 'proposed',
    subject_kind: 'proposal',
    subject_id: 'p-1',
    service: 'checkout',
    details: JSON.stringify({ policy: 'roll back bad deploys' }),
    ...over,
  });

  beforeAll(async () => {
    await sink.audit([event('p-1:1', NOW - 10 * MIN), event('p-1:2', NOW - 6 * MIN, { actor: 'api:alice', event: 'approved', details: '{"comment":"go"}' })]);
    await sink.audit([event('p-1:2', NOW - 6 * MIN, { actor: 'api:alice', event: 'approved', details: '{"comment":"go"}' })]); // replayed
    await sink.audit([
      event('a-1', NOW - 3 * MIN, { actor: 'api', event: 'created', subject_kind: 'action', subject_id: 'act-1', service: '', details: 'not json' }),
    ]);
    await sink.audit([event('x-1', NOW - MIN, { tenant: 'globex' })]);
  });

  it('is newest first, a replayed event once, details parsed (text kept when not JSON)', async () => {
    expect(await store.audit('acme', { limit: 10 })).toEqual([
      { event_id: 'a-1', at: NOW - 3 * MIN, actor: 'api', event: 'created', subject_kind: 'action', subject_id: 'act-1', service: '', details: 'not json' },
      {
        event_id: 'p-1:2',
        at: NOW - 6 * MIN,
        actor: 'api:alice',
        event: 'approved',
        subject_kind: 'proposal',
        subject_id: 'p-1',
        service: 'checkout',
        details: { comment: 'go' },
      },
      {
        event_id: 'p-1:1',
        at: NOW - 10 * MIN,
        actor: 'system',
        event: 'proposed',
        subject_kind: 'proposal',
        subject_id: 'p-1',
        service: 'checkout',
        details: { policy: 'roll back bad deploys' },
      },
    ]);
  });

  it('filters by since and subject, limits, and keeps to the tenant', async () => {
    const ids = async (tenant: string, f: Parameters<ProposalStore['audit']>[1]) => (await store.audit(tenant, f)).map((e) => e.event_id);
    expect(await ids('acme', { limit: 10, since: NOW - 6 * MIN })).toEqual(['a-1', 'p-1:2']);
    expect(await ids('acme', { limit: 10, subject_id: 'p-1' })).toEqual(['p-1:2', 'p-1:1']);
    expect(await ids('acme', { limit: 1 })).toEqual(['a-1']);
    expect(await ids('globex', { limit: 10 })).toEqual(['x-1']);
  });
});
