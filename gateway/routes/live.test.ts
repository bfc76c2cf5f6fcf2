import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.ts';
import type { ClickHouseClient } from '../../sql/client.ts';
import { IncidentChanges } from '../../sql/stores/incidents.ts';
import { insertIncidents, MIN, openClickHouse } from '../../test/helpers/assistant-data.ts';
import { client, expectError, gatewayTestApp, TEST_KEYS, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { stubPublisher } from '../../test/helpers/publisher-stub.ts';
import { proposalRecord } from '../../test/helpers/remediation.ts';
import { sseReader } from '../../test/helpers/sse.ts';
import { LiveFeed } from '../live-feed.ts';
import { openApiDocument } from '../openapi.ts';
import { createStores } from '../stores.ts';

/**
 * GET /v1/live through the app (`app.request()`, no server), on the
 * embedded ClickHouse: the event-stream framing (retry first, heartbeats
 * while quiet, incident events carrying what GET /v1/incidents lists,
 * proposal events the fields of GET /v1/incidents/{id}'s proposals), the
 * subscription ending with its client and with the feed, and the refusals,
 * each documented. What the feed reads and fans out is checked through a
 * real server in gateway/live-feed.test.ts. Before this change every request
 * here was a 404 (no route).
 */
const log = createLogger('test-live', 'silent');

function appWith(deps: { clickhouse?: ClickHouseClient; live?: LiveFeed }) {
  return gatewayTestApp({ publisher: stubPublisher(), clickhouse: deps.clickhouse, stores: deps.clickhouse && createStores(deps.clickhouse), live: deps.live })
    .app;
}

const feedOn = (ch: ClickHouseClient) => new LiveFeed(async () => new IncidentChanges(ch), { pollMs: 100, heartbeatMs: 200, log });

let ch: ClickHouseClient;
let feed: LiveFeed;
let a: ReturnType<typeof client>;

beforeAll(async () => {
  ch = await openClickHouse('live-routes');
  feed = feedOn(ch);
  a = client(appWith({ clickhouse: ch, live: feed }), TEST_KEYS.a);
});
afterAll(async () => {
  await feed?.stop();
  await ch?.close();
});

const open = async (send = a) => {
  const res = await send('GET', '/v1/live');
  expect(res.status).toBe(200);
  return { res, events: sseReader(res.body!) };
};

describe('GET /v1/live', () => {
  it('is an event stream: retry first, then a comment line while quiet', async () => {
    const { res, events } = await open();
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    // Not kept alive after the stream: a stopping gateway's server.close() need not wait for the keep-alive timeout.
    expect(res.headers.get('connection')).toBe('close');
    expect(await events.next()).toEqual({ retry: 3000 });
    expect(await events.next()).toEqual({ comment: 'heartbeat' });
    await events.cancel();
  });

  it('sends an incident written after it opened as GET /v1/incidents lists it', async () => {
    const { events } = await open();
    const now = Date.now();
    await insertIncidents(ch, TEST_TENANTS.a, [
      {
        id: 'live-1',
        service: 'checkout',
        status: 'open',
        severity: 'high',
        opened_at: now - MIN,
        signals: [{ id: 's1', kind: 'anomaly', at: now - MIN, summary: 'p99 up', severity: 'high' }],
        suspect: { id: 'd1', version: 'v9', minutes_before: 4 },
      },
    ]);
    const got = await events.until((m) => m.event === 'incident');
    const listed = (await (await a('GET', '/v1/incidents')).json()) as { incidents: unknown[] };
    expect(JSON.parse(got.at(-1)!.data!)).toEqual(listed.incidents[0]);
    expect(listed.incidents[0]).toMatchObject({ incident_id: 'live-1', suspect_deployment: { id: 'd1', version: 'v9', minutes_before: 4 } });
    await events.cancel();
  });

  // Before proposals were fanned out no `event: proposal` came, and `until` timed out.
  it("sends a proposal version written after it opened, with the fields of GET /v1/incidents/{id}'s proposals", async () => {
    const { events } = await open();
    const now = Date.now();
    await insertIncidents(ch, TEST_TENANTS.a, [{ id: 'live-2', service: 'checkout', status: 'open', severity: 'high', opened_at: now - MIN, signals: [] }]);
    const proposal = proposalRecord(TEST_TENANTS.a, { proposal_id: 'prop-live', subject_id: 'live-2', incident_id: 'live-2', updated_at: now });
    await ch.insert({ table: 'proposals', format: 'JSONEachRow', values: [{ ...proposal, kafka_partition: 0, kafka_offset: 0 }] });
    const got = JSON.parse((await events.until((m) => m.event === 'proposal')).at(-1)!.data!);
    const page = (await (await a('GET', '/v1/incidents/live-2')).json()) as { proposals: Record<string, unknown>[] };
    expect(page.proposals).toHaveLength(1);
    const listed = page.proposals[0]!;
    expect(got).toEqual({ ...listed, incident_id: 'live-2', service: 'checkout', version: 1, updated_at: now });
    expect(listed).toEqual({ proposal_id: 'prop-live', action_id: 'act-1', action_name: 'rollback', mode: 'approve', status: 'proposed' });
    await events.cancel();
  });

  it('the client going away ends its subscription, and the polling with the last one', async () => {
    const first = await open();
    const second = await open();
    expect(feed.subscribers).toBe(2);
    expect(feed.polling).toBe(true);
    await first.events.cancel();
    expect(feed.subscribers).toBe(1);
    expect(feed.polling).toBe(true);
    await second.events.cancel();
    expect(feed.subscribers).toBe(0);
    expect(feed.polling).toBe(false);
  });

  it('the feed stopping (gateway shutdown) ends every stream, and later requests at once', async () => {
    const own = feedOn(ch);
    const send = client(appWith({ clickhouse: ch, live: own }), TEST_KEYS.a);
    const { events } = await open(send);
    expect(await events.next()).toEqual({ retry: 3000 });
    await own.stop();
    expect(await events.next()).toBeUndefined();
    expect(own.subscribers).toBe(0);
    expect(own.polling).toBe(false);
    const late = await open(send);
    expect(await late.events.next()).toEqual({ retry: 3000 });
    expect(await late.events.next()).toBeUndefined();
  });
});

describe('refusals, each documented', () => {
  const doc = openApiDocument() as { paths: Record<string, { get: { responses: Record<string, unknown> } }> };
  const documents = (status: number) => expect(Object.keys(doc.paths['/v1/live']!.get.responses)).toContain(String(status));

  it('401 without a key', async () => {
    await expectError(await client(appWith({ clickhouse: ch, live: feed }), undefined)('GET', '/v1/live'), 401, 'unauthorized');
    documents(401);
  });

  it('503 without ClickHouse, with Retry-After', async () => {
    const res = await client(appWith({}), TEST_KEYS.a)('GET', '/v1/live');
    expect(res.headers.get('retry-after')).toBe('30');
    await expectError(res, 503, 'unavailable');
    documents(503);
  });

  it('503 when ClickHouse cannot be read, and no subscription left behind', async () => {
    const broken = new LiveFeed(
      async () => {
        throw new Error('connection refused');
      },
      { pollMs: 100, log },
    );
    const res = await client(appWith({ clickhouse: ch, live: broken }), TEST_KEYS.a)('GET', '/v1/live');
    expect(res.headers.get('retry-after')).toBe('3');
    await expectError(res, 503, 'unavailable');
    expect(broken.subscribers).toBe(0);
    expect(broken.polling).toBe(false);
  });
});
