import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../lib/log.ts';
import type { ProposalRecord } from '../schemas/topics.ts';
import type { ClickHouseClient } from '../sql/client.ts';
import { IncidentChanges, type IncidentSummary, type ProposalNotice } from '../sql/stores/incidents.ts';
import { insertAnalyses, insertIncidents, type IncidentInput, MIN, openClickHouse } from '../test/helpers/assistant-data.ts';
import { gatewayTestApp, TEST_KEYS, TEST_TENANTS } from '../test/helpers/gateway-app.ts';
import { listen } from '../test/helpers/pipeline.ts';
import { stubPublisher } from '../test/helpers/publisher-stub.ts';
import { proposalRecord } from '../test/helpers/remediation.ts';
import { type SseMessage, type SseReader, sseReader } from '../test/helpers/sse.ts';
import { LiveFeed } from './live-feed.ts';

/**
 * The live feed on the embedded ClickHouse, through the gateway on a real
 * loopback port, read as a browser's EventSource reads it: incident rows,
 * analyses and proposal versions written after a client subscribed arrive
 * as events, each version and each analysis once however often its row is
 * written, a tenant's
 * changes reach that tenant alone, and a client that goes away is
 * unsubscribed (the poller stops with the last one). The feed did not exist
 * before this change.
 *
 * Absence is shown by order, never by waiting: every poll fans out to every
 * subscriber at once, so an event that should not come would arrive before
 * the marker written after it.
 */
const A = TEST_TENANTS.a;
const B = TEST_TENANTS.b;

let ch: ClickHouseClient;
let feed: LiveFeed;
let server: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  ch = await openClickHouse('live-feed');
  const log = createLogger('test-live-feed', 'silent');
  feed = new LiveFeed(async () => new IncidentChanges(ch), { pollMs: 100, log });
  const { app } = gatewayTestApp({ publisher: stubPublisher(), clickhouse: ch, live: feed });
  server = await listen(app);
});
afterAll(async () => {
  await feed?.stop();
  await server?.close();
  await ch?.close();
});

/** A browser's connection to /v1/live: its events, and a way to go away. */
async function connect(key: string): Promise<{ events: SseReader; abort(): void }> {
  const abort = new AbortController();
  const res = await fetch(`${server.url}/v1/live`, { headers: { authorization: `Bearer ${key}` }, signal: abort.signal });
  expect(res.status).toBe(200);
  return { events: sseReader(res.body!), abort: () => abort.abort() };
}

const incident = (id: string, version: number, status: 'open' | 'resolved' = 'open'): IncidentInput => ({
  id,
  service: 'checkout',
  version,
  status,
  severity: 'high',
  opened_at: Date.now() - MIN,
  resolved_at: status === 'resolved' ? Date.now() : null,
  signals: [],
});
const isIncident = (id: string, version?: number) => (m: SseMessage) =>
  m.event === 'incident' && (JSON.parse(m.data!) as IncidentSummary).incident_id === id && (version === undefined || JSON.parse(m.data!).version === version);
const isProposal = (id: string, version?: number) => (m: SseMessage) =>
  m.event === 'proposal' && (JSON.parse(m.data!) as ProposalNotice).proposal_id === id && (version === undefined || JSON.parse(m.data!).version === version);
/** The events among messages (no retry, no heartbeats), as [event, incident id, version or analysis], or [event, proposal id, version]. */
const events = (messages: SseMessage[]) =>
  messages
    .filter((m) => m.event)
    .map((m) => {
      const d = JSON.parse(m.data!);
      if (m.event === 'proposal') return [m.event, d.proposal_id, d.version];
      return m.event === 'incident' ? [m.event, d.incident_id, d.version] : [m.event, d.incident_id, d.analysis_id];
    });
/** Proposal versions as the sink writes them (processors/sink/rows.ts: every version a row), one insert per call. */
const insertProposals = (records: ProposalRecord[]) =>
  ch.insert({
    table: 'proposals',
    format: 'JSONEachRow',
    values: records.map((p) => ({ ...p, execution: p.execution && JSON.stringify(p.execution), kafka_partition: 0, kafka_offset: 0 })),
  });

describe('the live feed', () => {
  let a: Awaited<ReturnType<typeof connect>>;
  let b: Awaited<ReturnType<typeof connect>>;

  it("sends a tenant's changes from its subscription on, each version once, to that tenant alone", async () => {
    // Written before anyone subscribed: never sent.
    await insertIncidents(ch, A, [incident('before', 1)]);
    a = await connect(TEST_KEYS.a);
    b = await connect(TEST_KEYS.b);
    expect(feed.subscribers).toBe(2);

    await insertIncidents(ch, A, [incident('inc-1', 1)]);
    const first = await a.events.until(isIncident('inc-1', 1));
    expect(events(first)).toEqual([['incident', 'inc-1', 1]]);
    expect(JSON.parse(first.at(-1)!.data!)).toMatchObject({ incident_id: 'inc-1', service: 'checkout', status: 'open', severity: 'high', version: 1 });

    // Resolved in version 2; version 2 written again (a replay, in an insert of its own); then version 3.
    await insertIncidents(ch, A, [incident('inc-1', 2, 'resolved')]);
    await a.events.until(isIncident('inc-1', 2));
    await insertIncidents(ch, A, [incident('inc-1', 2, 'resolved')]);
    await insertIncidents(ch, A, [incident('inc-1', 3, 'resolved')]);
    expect(events(await a.events.until(isIncident('inc-1', 3)))).toEqual([['incident', 'inc-1', 3]]);

    // Two incidents in one insert (as the sink writes a batch): both. (Two versions of one incident in one
    // insert are one row already: ClickHouse keeps the latest version of an inserted block's duplicates.)
    await insertIncidents(ch, A, [incident('inc-2', 1), incident('inc-3', 1)]);
    expect(events(await a.events.until(isIncident('inc-3', 1)))).toEqual([
      ['incident', 'inc-2', 1],
      ['incident', 'inc-3', 1],
    ]);

    // B's own change reaches B, with nothing of A's before it.
    await insertIncidents(ch, B, [incident('inc-b', 1)]);
    expect(events(await b.events.until(isIncident('inc-b')))).toEqual([['incident', 'inc-b', 1]]);
  });

  it('sends each analysis once, also one made before it reached the table', async () => {
    const analysis = (id: string, at: number) => ({
      id,
      incident: 'inc-1',
      service: 'checkout',
      at,
      source: 'rules' as const,
      root_cause: `deploy v9 (${id})`,
      confidence: 0.7,
    });
    // Made a minute ago, written only now (the pipeline's lag); then written again; then another.
    const made = Date.now() - MIN;
    await insertAnalyses(ch, A, [analysis('an-1', made)]);
    const got = await a.events.until((m) => m.event === 'analysis');
    expect(JSON.parse(got.at(-1)!.data!)).toEqual({
      incident_id: 'inc-1',
      analysis_id: 'an-1',
      source: 'rules',
      root_cause: 'deploy v9 (an-1)',
      root_cause_confidence: 0.7,
      created_at: made,
    });
    await insertAnalyses(ch, A, [analysis('an-1', made)]);
    await insertAnalyses(ch, A, [analysis('an-2', Date.now())]);
    expect(events(await a.events.until((m) => m.event === 'analysis'))).toEqual([['analysis', 'inc-1', 'an-2']]);

    // B saw none of it: its next event is its own marker.
    await insertIncidents(ch, B, [incident('inc-b', 2)]);
    expect(events(await b.events.until(isIncident('inc-b', 2)))).toEqual([['incident', 'inc-b', 2]]);
  });

  // Before proposals were fanned out, no `event: proposal` ever came: the first `until` below timed out (checked by
  // running this file against the feed without them).
  it('sends each proposal version once, also one changed before it reached the table, to its tenant alone', async () => {
    // Proposed a minute ago, written only now (the pipeline's lag).
    const made = Date.now() - MIN;
    const p1 = proposalRecord(A, { proposal_id: 'prop-1', subject_id: 'inc-1', incident_id: 'inc-1', created_at: made, updated_at: made });
    await insertProposals([p1]);
    const first = await a.events.until(isProposal('prop-1', 1));
    expect(events(first)).toEqual([['proposal', 'prop-1', 1]]);
    // GET /v1/incidents/{id}'s proposals item (proposal_id, action_id, action_name, mode, status), and what places the version.
    expect(JSON.parse(first.at(-1)!.data!)).toEqual({
      proposal_id: 'prop-1',
      incident_id: 'inc-1',
      service: 'checkout',
      action_id: 'act-1',
      action_name: 'rollback',
      mode: 'approve',
      status: 'proposed',
      version: 1,
      updated_at: made,
    });

    // Approved (version 2), while version 1 stays inside the overlap and is read again at every poll.
    await insertProposals([{ ...p1, version: 2, status: 'approved', decided_by: 'ops@acme', decided_at: Date.now(), updated_at: Date.now() }]);
    expect(events(await a.events.until(isProposal('prop-1', 2)))).toEqual([['proposal', 'prop-1', 2]]);
    // Version 1 written again (a replay, older than what was seen), then executing (version 3): only version 3 comes.
    await insertProposals([p1]);
    await insertProposals([{ ...p1, version: 3, status: 'executing', updated_at: Date.now() }]);
    const third = await a.events.until(isProposal('prop-1', 3));
    expect(events(third)).toEqual([['proposal', 'prop-1', 3]]);
    expect(JSON.parse(third.at(-1)!.data!)).toMatchObject({ proposal_id: 'prop-1', status: 'executing', version: 3 });

    // B's own proposal reaches B with nothing of A's before it; A's next event is its own marker, nothing of B's.
    await insertProposals([proposalRecord(B, { proposal_id: 'prop-b', subject_id: 'inc-b', incident_id: 'inc-b' })]);
    expect(events(await b.events.until(isProposal('prop-b')))).toEqual([['proposal', 'prop-b', 1]]);
    await insertIncidents(ch, A, [incident('inc-5', 1)]);
    expect(events(await a.events.until(isIncident('inc-5')))).toEqual([['incident', 'inc-5', 1]]);
  });

  it('a client that goes away is unsubscribed; polling stops with the last one', async () => {
    expect(feed.subscribers).toBe(2);
    a.abort();
    await vi.waitFor(() => expect(feed.subscribers).toBe(1), { timeout: 10_000 });
    expect(feed.polling).toBe(true);
    b.abort();
    await vi.waitFor(() => expect(feed.subscribers).toBe(0), { timeout: 10_000 });
    expect(feed.polling).toBe(false);
  });

  it('a new subscriber gets only what is written after it subscribed', async () => {
    // Written while no one listened (the poller stopped): never sent, though within the overlap.
    await insertIncidents(ch, A, [incident('while-away', 1)]);
    await insertProposals([proposalRecord(A, { proposal_id: 'prop-while-away' })]);
    const again = await connect(TEST_KEYS.a);
    await insertIncidents(ch, A, [incident('inc-4', 1)]);
    expect(events(await again.events.until(isIncident('inc-4')))).toEqual([['incident', 'inc-4', 1]]);
    again.abort();
  });
});
