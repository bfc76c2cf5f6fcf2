import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS, type AgentEvent } from '../schemas/topics.ts';
import { endOf } from '../processors/agents/series.ts';
import { eventually, startTestPipeline, topicEnd, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Agent telemetry end to end on the real stack: calls of 3 agents × 2 models
 * go to autopilot.agent-events; the agents processor prices them (the
 * sender's cost, the built-in price of a dated OpenAI model, the tenant's own
 * price of its in-house model) and turns them into metric series; the sink
 * writes agent_calls; GET /v1/agents/stats gives count, success rate,
 * P50/P95/P99, tokens and cost, each checked against values computed here;
 * and an alert rule on one agent's P95 over all its models fires and
 * resolves on the rollup's 10 s windows (20 s lateness: calls of different
 * agents are priced side by side, so their samples reach a rollup partition
 * in any order within that).
 *
 * Before processors/agents existed nothing read autopilot.agent-events: no
 * agent_calls row, no stats group and no alert, so every check below failed.
 */
const AGENTS = ['planner', 'coder', 'reviewer'] as const;
const MODELS = ['gpt-4o-mini-2024-07-18', 'house-model'] as const;
const SECONDS = 120;
/** gpt-4o-mini's built-in rates (matched by prefix) and the tenant's own for house-model, USD per million tokens. */
const RATES = {
  'gpt-4o-mini-2024-07-18': { input: 0.15, cached: 0.075, output: 0.6 },
  'house-model': { input: 1, cached: 0.5, output: 2 },
};

/** The calls: one per second per (agent, model), each at its own millisecond. coder is slow from 30 s to 70 s. */
function callsFrom(tenant: string, t0: number): AgentEvent[] {
  const events: AgentEvent[] = [];
  for (let s = 0; s < SECONDS; s++) {
    for (const [a, agent] of AGENTS.entries()) {
      for (const [m, model] of MODELS.entries()) {
        const k = a * MODELS.length + m;
        const slow = agent === 'coder' && s >= 30 && s < 70;
        const duration = slow ? 8000 + (s % 5) * 100 + m * 37 : (a + 1) * 400 + m * 150 + (s % 7) * 23 + (s % 3) * 5;
        const failed = (agent === 'reviewer' && s % 10 === 3) || (agent === 'planner' && s % 20 === 7);
        events.push({
          event_id: `call-${s}-${k}`,
          tenant,
          agent,
          model,
          provider: m === 0 ? 'openai' : 'in-house',
          operation: 'chat',
          started_at: t0 + s * 1000 + k * 10,
          duration_ms: duration,
          input_tokens: 1000 + s * 3,
          output_tokens: 200 + s,
          cached_input_tokens: (s % 4) * 50,
          // planner's framework reports its own cost; the others are priced by the table.
          cost: agent === 'planner' ? 0.001 * (1 + (s % 3)) : null,
          status: failed ? 'error' : 'ok',
          error_type: failed ? (agent === 'reviewer' ? 'rate_limit' : 'timeout') : null,
          session_id: `session-${agent}-${Math.floor(s / 30)}`,
          trace_id: '',
          span_id: '',
          source: 'api',
          attributes: {},
        });
      }
    }
  }
  return events;
}

const expectedCost = (e: AgentEvent) => {
  if (e.cost !== null) return e.cost;
  const r = RATES[e.model as keyof typeof RATES];
  return ((e.input_tokens - e.cached_input_tokens) * r.input + e.cached_input_tokens * r.cached + e.output_tokens * r.output) / 1e6;
};

/** The exact quantile with linear interpolation between ranks (numpy's default; ClickHouse's quantileExactInclusive). */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo]! + (h - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!);
}

const within1Percent = (actual: number, exact: number) => expect(Math.abs(actual - exact) / exact, `${actual} vs exact ${exact}`).toBeLessThanOrEqual(0.01);

describe('agent telemetry', () => {
  let p: TestPipeline;
  let events: AgentEvent[];
  let t0: number;
  const auth = () => ({ authorization: `Bearer ${p.keys.a}` });

  beforeAll(async () => {
    p = await startTestPipeline('agents', {
      processors: ['agents', 'rollup', 'alert', 'sink'],
      env: {
        ROLLUP_WINDOW_MS: '10000',
        ROLLUP_LATENESS_MS: '20000',
        ALERT_RULES_REFRESH_SECONDS: '0.2',
        ALERT_SWEEP_SECONDS: '0.5',
        AGENTS_PRICES_REFRESH_SECONDS: '0.2',
      },
    });
  });
  afterAll(async () => p?.stop());

  it('prices, aggregates and alerts on calls of 3 agents × 2 models', async () => {
    // The tenant's own price for its in-house model: version 1 of its table.
    const put = await p.app.request('/v1/agent-prices/house-model', {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ input_per_mtok: 1, output_per_mtok: 2, cached_input_per_mtok: 0.5 }),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(((await put.json()) as { version: number }).version).toBe(1);

    const rule = await p.post('/v1/alert-rules', {
      name: 'coder p95 slow',
      kind: 'threshold',
      service: 'coder',
      metric: 'llm_agent_duration_ms',
      field: 'p95',
      op: 'gt',
      value: 5000,
      for: '10s',
    });
    expect(rule.status, await rule.clone().text()).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 500)); // both processors re-read their tables every 0.2 s

    // Calls start after the price change (a price applies from its version on), on a 10 s boundary.
    t0 = Math.ceil((Date.now() + 1000) / 10_000) * 10_000;
    events = callsFrom(p.tenants.a, t0);
    // Sent as calls arrive, in event-time order: 10 s at a time, each once the agents processor has priced it.
    // (Agents are read from different partitions, so within a chunk their samples reach the rollup in any order: the lateness covers that.)
    for (let from = 0; from < events.length; from += 10 * AGENTS.length * MODELS.length) {
      const chunk = events.slice(from, from + 10 * AGENTS.length * MODELS.length);
      const priced = await topicEnd(p.services.kafka, TOPICS.agentCalls.topic);
      await p.publisher.publish('agentEvents', chunk);
      await eventually(
        () => topicEnd(p.services.kafka, TOPICS.agentCalls.topic),
        (end) => end >= priced + chunk.length,
        30_000,
      );
    }

    // agent_calls: every call once, priced where it says.
    const calls = await eventually(
      () =>
        p.rows<{ event_id: string; cost: number | null; cost_source: string; price_version: number }>(
          'SELECT event_id, cost, cost_source, price_version FROM agent_calls FINAL WHERE tenant = {t:String}',
          { t: p.tenants.a },
        ),
      (rows) => rows.length >= events.length,
      60_000,
    );
    expect(calls).toHaveLength(events.length);
    const byId = new Map(calls.map((c) => [c.event_id, c]));
    for (const e of events) {
      const c = byId.get(e.event_id)!;
      expect(c.cost_source).toBe(e.cost !== null ? 'event' : 'price_table');
      expect(Number(c.price_version)).toBe(e.cost !== null ? 0 : 1);
      expect(Number(c.cost)).toBeCloseTo(expectedCost(e), 12);
    }

    // GET /v1/agents/stats, by agent and by model, against the same figures computed here.
    for (const by of ['agent', 'model'] as const) {
      const res = await p.app.request(`/v1/agents/stats?window=1h&by=${by}`, { headers: auth() });
      expect(res.status, await res.clone().text()).toBe(200);
      const body = (await res.json()) as { groups: Record<string, number | string>[] };
      const keys = by === 'agent' ? AGENTS : MODELS;
      expect(body.groups.map((g) => g[by]).sort()).toEqual([...keys].sort());
      for (const key of keys) {
        const mine = events.filter((e) => e[by] === key);
        const g = body.groups.find((x) => x[by] === key)!;
        const durations = mine.map((e) => e.duration_ms);
        expect(g.count).toBe(mine.length);
        expect(g.success_rate).toBeCloseTo(mine.filter((e) => e.status === 'ok').length / mine.length, 12);
        within1Percent(g.p50_ms as number, exactQuantile(durations, 0.5));
        within1Percent(g.p95_ms as number, exactQuantile(durations, 0.95));
        within1Percent(g.p99_ms as number, exactQuantile(durations, 0.99));
        expect(g.input_tokens).toBe(mine.reduce((n, e) => n + e.input_tokens, 0));
        expect(g.output_tokens).toBe(mine.reduce((n, e) => n + e.output_tokens, 0));
        expect(g.cost_usd).toBeCloseTo(
          mine.reduce((n, e) => n + expectedCost(e), 0),
          10,
        );
        expect(g.unpriced_calls).toBe(0);
      }
    }

    // The rollup's windows of coder over all models: P95 within 1% of the exact one (DDSketch takes rank q·(n−1)).
    const windows = await eventually(
      () =>
        p.rows<{ window_start: string; count: number; p50: number; p95: number; p99: number }>(
          `SELECT toUnixTimestamp64Milli(window_start) AS window_start, count, p50, p95, p99 FROM metric_rollups FINAL
            WHERE tenant = {t:String} AND metric_name = 'llm_agent_duration_ms' AND service = 'coder' ORDER BY window_start`,
          { t: p.tenants.a },
        ),
      (rows) => rows.length >= 9,
      60_000,
    );
    // A call's samples are stamped at its end (processors/agents/series.ts): windows hold the calls that ended in them.
    const coderDurationsEndingIn = (start: number) =>
      events.filter((e) => e.agent === 'coder' && endOf(e) >= start && endOf(e) < start + 10_000).map((e) => e.duration_ms);
    const exactP95 = (start: number) => {
      const sorted = coderDurationsEndingIn(start).sort((a, b) => a - b);
      return sorted[Math.floor(0.95 * (sorted.length - 1))] ?? 0;
    };
    for (const w of windows) {
      const start = Number(w.window_start);
      const inside = coderDurationsEndingIn(start);
      expect(Number(w.count)).toBe(inside.length);
      const sorted = [...inside].sort((a, b) => a - b);
      for (const [q, value] of [
        [0.5, w.p50],
        [0.95, w.p95],
        [0.99, w.p99],
      ] as const) {
        const exact = sorted[Math.floor(q * (sorted.length - 1))]!;
        within1Percent(Number(value), exact);
      }
    }

    // The rule on coder's P95: fires once slow windows have held for 10 s, resolves on the first fine one.
    const alerts = await eventually(
      () =>
        p.rows<{ status: string; starts_at: string; ends_at: string | null; value: number }>(
          `SELECT status, toUnixTimestamp64Milli(starts_at) AS starts_at, toUnixTimestamp64Milli(ends_at) AS ends_at, value
             FROM alerts FINAL WHERE tenant = {t:String} ORDER BY received_at`,
          { t: p.tenants.a },
        ),
      (rows) => rows.some((r) => r.status === 'resolved'),
      60_000,
    );
    // Expected from the calls themselves: the first window whose exact P95 is over 5 s, and the first fine one after it.
    const starts = Array.from({ length: SECONDS / 10 + 2 }, (_, i) => t0 + i * 10_000);
    const firstSlow = starts.find((w) => exactP95(w) > 5000)!;
    const firstFine = starts.find((w) => w > firstSlow && exactP95(w) <= 5000)!;
    expect(alerts.map((a) => a.status)).toEqual(['firing', 'resolved']);
    expect(Number(alerts[0]!.starts_at)).toBe(firstSlow);
    expect(Number(alerts[0]!.value)).toBeGreaterThan(8000);
    expect(Number(alerts[1]!.ends_at)).toBe(firstFine + 10_000);
  }, 180_000);

  it('gives the same rows when the same calls are sent again (exactly once by content)', async () => {
    // 15 samples a call (5 measures × 3 groupings); every call here has a cost.
    const before = await eventually(
      () =>
        p.rows<{ n: string; cost: number; samples: string }>(
          `SELECT (SELECT count() FROM agent_calls FINAL WHERE tenant = {t:String}) AS n,
                  (SELECT sum(cost) FROM agent_calls FINAL WHERE tenant = {t:String}) AS cost,
                  (SELECT count() FROM metric_points FINAL WHERE tenant = {t:String} AND startsWith(metric_name, 'llm_')) AS samples`,
          { t: p.tenants.a },
        ),
      (rows) => Number(rows[0]!.samples) >= events.length * 15,
      60_000,
    );
    expect(Number(before[0]!.samples)).toBe(events.length * 15);
    await p.publisher.publish('agentEvents', events.slice(0, 60));
    // A marker call after the replay: once it is in, the replayed ones were handled before it (same agent, same partition).
    const marker = { ...events[0]!, event_id: 'marker', started_at: t0 + SECONDS * 1000 + 5 };
    await p.publisher.publish('agentEvents', [marker]);
    await eventually(
      () => p.rows<{ n: string }>(`SELECT count() AS n FROM agent_calls FINAL WHERE tenant = {t:String} AND event_id = 'marker'`, { t: p.tenants.a }),
      (rows) => Number(rows[0]!.n) === 1,
      60_000,
    );
    await eventually(
      () =>
        p.rows<{ n: string }>(
          `SELECT count() AS n FROM metric_points FINAL WHERE tenant = {t:String} AND startsWith(metric_name, 'llm_') AND timestamp = fromUnixTimestamp64Milli({at:Int64})`,
          { t: p.tenants.a, at: endOf(marker) },
        ),
      (rows) => Number(rows[0]!.n) === 15,
      60_000,
    );
    const after = await p.rows<{ n: string; cost: number; samples: string }>(
      `SELECT (SELECT count() FROM agent_calls FINAL WHERE tenant = {t:String} AND event_id != 'marker') AS n,
              (SELECT sum(cost) FROM agent_calls FINAL WHERE tenant = {t:String} AND event_id != 'marker') AS cost,
              (SELECT count() FROM metric_points FINAL WHERE tenant = {t:String} AND startsWith(metric_name, 'llm_')) AS samples`,
      { t: p.tenants.a },
    );
    expect(Number(after[0]!.n)).toBe(Number(before[0]!.n));
    expect(Number(after[0]!.cost)).toBeCloseTo(Number(before[0]!.cost), 12);
    expect(Number(after[0]!.samples)).toBe(events.length * 15 + 15);
  }, 120_000);
});
