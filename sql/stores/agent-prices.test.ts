import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '../client.ts';
import { migrate } from '../migrate.ts';
import { AgentPriceStore } from './agent-prices.ts';

/** Price table versions in ClickHouse (migration 0033): numbered per tenant, each the whole set of the tenant's prices. */
describe('AgentPriceStore', () => {
  let ch: ClickHouseClient;
  let store: AgentPriceStore;
  const price = (input: number) => ({ input_per_mtok: input, output_per_mtok: 2 * input, cached_input_per_mtok: input / 2 });

  beforeAll(async () => {
    ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-agent-prices-')) });
    await migrate(ch);
    store = new AgentPriceStore(ch);
  });
  afterAll(async () => ch?.close());

  it('keeps a version per change, in order, created_at growing, per tenant', async () => {
    // Side by side, as two requests would: still versions 1 and 2, not two 1s.
    await Promise.all([store.change('t1', 'a', price(1)), store.change('t1', 'b', price(3))]);
    expect(await store.change('t1', 'zzz', undefined)).toBeUndefined(); // nothing to remove: no version
    await store.change('t1', 'a', undefined);
    await store.change('t2', 'a', price(5));

    const versions = await store.versions('t1');
    expect(versions.map((v) => [v.version, Object.keys(v.overrides)])).toEqual([
      [1, ['a']],
      [2, ['a', 'b']],
      [3, ['b']],
    ]);
    expect(versions[1]!.created_at).toBeGreaterThan(versions[0]!.created_at);
    expect((await store.latest('t1')).overrides).toEqual({ b: price(3) });
    expect((await store.version('t1', 1))!.overrides).toEqual({ a: price(1) });
    const all = await store.all();
    expect(all.get('t1')!.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(all.get('t2')!.map((v) => v.version)).toEqual([1]);
    expect(await store.latest('nobody')).toMatchObject({ version: 0, overrides: {} });
  });
});
