import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../schemas/topics.ts';
import { PriceBook, priceEvent } from './pricing.ts';

const event = (over: Partial<AgentEvent> = {}): AgentEvent => ({
  event_id: 'e1',
  tenant: 't',
  agent: 'planner',
  model: 'gpt-4o-mini-2024-07-18',
  provider: 'openai',
  operation: 'chat',
  started_at: 10_000,
  duration_ms: 1200,
  input_tokens: 1000,
  output_tokens: 500,
  cached_input_tokens: 200,
  cost: null,
  status: 'ok',
  error_type: null,
  session_id: null,
  trace_id: '',
  span_id: '',
  source: 'api',
  attributes: {},
  ...over,
});

describe('pricing an agent event', () => {
  it("keeps the sender's own cost ('event')", () => {
    expect(priceEvent(event({ cost: 0.5 }), undefined)).toMatchObject({ cost: 0.5, cost_source: 'event', price_version: 0 });
  });

  it("prices by the built-in table, matched by prefix ('price_table', version 0)", () => {
    // gpt-4o-mini: 0.15 input, 0.075 cached, 0.6 output per million.
    const call = priceEvent(event(), undefined);
    expect(call.cost_source).toBe('price_table');
    expect(call.price_version).toBe(0);
    expect(call.cost).toBeCloseTo((800 * 0.15 + 200 * 0.075 + 500 * 0.6) / 1e6, 15);
  });

  it("prices by the tenant's version in force when the call started, not a later one", () => {
    const own = { input_per_mtok: 10, output_per_mtok: 20, cached_input_per_mtok: 1 };
    const versions = [
      { version: 1, overrides: { 'gpt-4o-mini': own }, change: null, created_at: 5000 },
      { version: 2, overrides: { 'gpt-4o-mini': { ...own, input_per_mtok: 99 } }, change: null, created_at: 20_000 },
    ];
    const call = priceEvent(event(), versions);
    expect(call).toMatchObject({ cost_source: 'price_table', price_version: 1 });
    expect(call.cost).toBeCloseTo((800 * 10 + 200 * 1 + 500 * 20) / 1e6, 15);
    // The same event and versions: the same call (a replay writes the same row).
    expect(priceEvent(event(), versions)).toEqual(call);
  });

  it("gives no cost for a model the table does not know ('unknown')", () => {
    expect(priceEvent(event({ model: 'in-house-7b' }), undefined)).toMatchObject({ cost: null, cost_source: 'unknown' });
  });

  it('re-reads the price tables only after the refresh interval', async () => {
    let loads = 0;
    const book = new PriceBook(async () => {
      loads++;
      return new Map();
    }, 60_000);
    await book.versions();
    await book.versions();
    expect(loads).toBe(1);
  });
});
