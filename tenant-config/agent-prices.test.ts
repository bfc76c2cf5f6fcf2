import { describe, expect, it } from 'vitest';
import { thrownAutopilotError } from '../test/helpers/thrown.ts';
import { costOf, DEFAULT_PRICES, DEFAULT_TABLE, effectiveTable, parseModelPrice, priceOf, tableAt } from './agent-prices.ts';
import type { PriceVersion } from '../sql/stores/agent-prices.ts';

/** The price table's rules: which entry a model name gets, what a call costs, which version is in force when. */
describe('price table', () => {
  it('matches a model exactly, else by the longest known name it starts with at a boundary', () => {
    expect(priceOf(DEFAULT_TABLE, 'gpt-4o')?.model).toBe('gpt-4o');
    expect(priceOf(DEFAULT_TABLE, 'gpt-4o-mini-2024-07-18')?.model).toBe('gpt-4o-mini');
    expect(priceOf(DEFAULT_TABLE, 'gpt-4o-2024-08-06')?.model).toBe('gpt-4o');
    expect(priceOf(DEFAULT_TABLE, 'claude-3-5-sonnet-20241022')?.model).toBe('claude-3-5-sonnet');
    expect(priceOf(DEFAULT_TABLE, 'llama3.1:8b')?.model).toBe('llama3.1');
    expect(priceOf(DEFAULT_TABLE, 'o3-mini-2025-01-31')?.model).toBe('o3-mini');
    // No boundary after the known name: a different model, not a dated one.
    expect(priceOf(DEFAULT_TABLE, 'gpt-4ox')).toBeUndefined();
    expect(priceOf(DEFAULT_TABLE, 'my-own-model')).toBeUndefined();
    // Inherited object keys are not models.
    expect(priceOf(DEFAULT_TABLE, 'constructor')).toBeUndefined();
  });

  it('prices uncached input, cached input and output at their own rates', () => {
    const price = { input_per_mtok: 2, cached_input_per_mtok: 0.5, output_per_mtok: 8 };
    // 1000 input of which 400 cached, 500 output: 600×2 + 400×0.5 + 500×8 per million.
    expect(costOf(price, { input_tokens: 1000, cached_input_tokens: 400, output_tokens: 500 })).toBeCloseTo((1200 + 200 + 4000) / 1e6, 15);
    // More cached than input (a sender's slip): all input at the cached rate, never a negative count.
    expect(costOf(price, { input_tokens: 100, cached_input_tokens: 300, output_tokens: 0 })).toBeCloseTo(50 / 1e6, 15);
  });

  it('gives the version in force at a time: the defaults before the first change, each version from its creation', () => {
    const own = { input_per_mtok: 1, output_per_mtok: 2, cached_input_per_mtok: 1 };
    const versions: PriceVersion[] = [
      { version: 1, overrides: { 'gpt-4o': own }, change: null, created_at: 1000 },
      { version: 2, overrides: {}, change: null, created_at: 2000 },
    ];
    expect(tableAt(versions, 999)).toBe(DEFAULT_TABLE);
    expect(tableAt(versions, 1000).version).toBe(1);
    expect(tableAt(versions, 1000).prices['gpt-4o']).toEqual(own);
    expect(tableAt(versions, 1999).prices['gpt-4o-mini']).toEqual(DEFAULT_PRICES['gpt-4o-mini']);
    expect(tableAt(versions, 5000)).toEqual(effectiveTable(2, {}));
    expect(tableAt(undefined, 5000)).toBe(DEFAULT_TABLE);
  });

  it('takes a price with the cached rate optional (then the input rate) and refuses what is not one', () => {
    expect(parseModelPrice({ input_per_mtok: 3, output_per_mtok: 15 })).toEqual({ input_per_mtok: 3, output_per_mtok: 15, cached_input_per_mtok: 3 });
    const err = thrownAutopilotError(() => parseModelPrice({ input_per_mtok: -1, output: 15 }));
    expect(err).toMatchObject({ code: 'bad_request' });
    expect((err as { details: { path: string }[] }).details.map((d) => d.path).sort()).toEqual(['', 'input_per_mtok', 'output_per_mtok']);
  });

  it('has a price for every model of the default table that is finite and not negative', () => {
    for (const [model, p] of Object.entries(DEFAULT_PRICES)) {
      for (const v of Object.values(p)) expect(Number.isFinite(v) && v >= 0, model).toBe(true);
    }
  });
});
