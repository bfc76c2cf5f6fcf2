import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '../../sql/client.ts';
import { migrate } from '../../sql/migrate.ts';
import { expectError, gatewayTestApp, client, TEST_KEYS, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { stubPublisher } from '../../test/helpers/publisher-stub.ts';

/**
 * GET /v1/agents/stats on an embedded ClickHouse with agent_calls rows
 * written here: per agent or per model, count, success rate, exact
 * percentiles, token and cost sums, inside the window and for the caller's
 * tenant only; a replayed row (same event_id) counts once (FINAL).
 */
describe('GET /v1/agents/stats', () => {
  let ch: ClickHouseClient;
  let get: ReturnType<typeof client>;
  const now = Date.now();

  beforeAll(async () => {
    ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-agent-stats-')) });
    await migrate(ch);
    const row = (i: number, over: Record<string, unknown> = {}) => ({
      tenant: TEST_TENANTS.a,
      agent: i % 2 ? 'coder' : 'planner',
      model: 'gpt-4o',
      started_at: now - 60_000 + i,
      event_id: `e${i}`,
      provider: 'openai',
      operation: 'chat',
      duration_ms: (i + 1) * 10,
      input_tokens: 100,
      output_tokens: 10,
      cached_input_tokens: 0,
      cost: i === 0 ? null : 0.5,
      cost_source: i === 0 ? 'unknown' : 'price_table',
      price_version: 0,
      status: i % 4 === 1 ? 'error' : 'ok',
      error_type: null,
      session_id: null,
      trace_id: '',
      span_id: '',
      source: 'api',
      attributes: {},
      kafka_partition: 0,
      kafka_offset: i,
      ...over,
    });
    const rows = [
      ...Array.from({ length: 100 }, (_, i) => row(i)),
      row(5), // the same call again
      row(200, { started_at: now - 3 * 3_600_000 }), // outside 1h
      row(201, { tenant: TEST_TENANTS.b }),
    ];
    await ch.insert({ table: 'agent_calls', values: rows, format: 'JSONEachRow' });
    get = client(gatewayTestApp({ publisher: stubPublisher(), clickhouse: ch }).app, TEST_KEYS.a);
  });
  afterAll(async () => ch?.close());

  it('groups by agent with exact figures', async () => {
    const res = await get('GET', '/v1/agents/stats?window=1h&by=agent');
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as { window: string; groups: Record<string, unknown>[] };
    expect(body.window).toBe('1h');
    const coder = body.groups.find((g) => g.agent === 'coder')!;
    // coder: odd i, durations 20, 40, …, 1000 (50 calls); errors at i % 4 = 1 (25 calls).
    expect(coder).toMatchObject({ count: 50, errors: 25, success_rate: 0.5, input_tokens: 5000, output_tokens: 500, cost_usd: 25, unpriced_calls: 0 });
    // Linear interpolation between ranks: p50 of 20..1000 step 20 is the mean of 500 and 520.
    expect(coder.p50_ms).toBeCloseTo(510, 9);
    expect(coder.p95_ms).toBeCloseTo(20 + 0.95 * 49 * 20, 9);
    const planner = body.groups.find((g) => g.agent === 'planner')!;
    expect(planner).toMatchObject({ count: 50, errors: 0, cost_usd: 24.5, unpriced_calls: 1 });
  });

  it('groups by model, and refuses a bad window or grouping', async () => {
    const body = (await (await get('GET', '/v1/agents/stats?by=model')).json()) as { groups: Record<string, unknown>[] };
    expect(body.groups).toEqual([expect.objectContaining({ model: 'gpt-4o', count: 100 })]);
    await expectError(await get('GET', '/v1/agents/stats?window=soon'), 400, 'bad_request');
    await expectError(await get('GET', '/v1/agents/stats?by=provider'), 400, 'bad_request');
  });
});
