import { describe, expect, it } from 'vitest';
import { expectError, routeTestApp } from '../../test/helpers/gateway-app.ts';
import { DEFAULT_PRICES, DEFAULT_PRICES_DATE } from '../../tenant-config/agent-prices.ts';

/** The price table API on in-memory stores: the effective table, versions per change, validation, tenants apart. */
type Table = { version: number; defaults_date: string; models: Record<string, { input_per_mtok: number; source: string }> };

describe('/v1/agent-prices', () => {
  it('starts as the built-in table, version 0, with its date', async () => {
    const t = routeTestApp();
    const table = (await (await t.a('GET', '/v1/agent-prices')).json()) as Table;
    expect(table).toMatchObject({ version: 0, defaults_date: DEFAULT_PRICES_DATE });
    expect(Object.keys(table.models).sort()).toEqual(Object.keys(DEFAULT_PRICES).sort());
    expect(table.models['gpt-4o']).toMatchObject({ ...DEFAULT_PRICES['gpt-4o'], source: 'default' });
  });

  it('makes a version per change: a PUT overrides or adds a model, a DELETE brings the built-in price back', async () => {
    const t = routeTestApp();
    const put = await t.a('PUT', '/v1/agent-prices/gpt-4o', { input_per_mtok: 2, output_per_mtok: 9 });
    expect(put.status, await put.clone().text()).toBe(200);
    expect(await put.json()).toMatchObject({ version: 1, model: 'gpt-4o', input_per_mtok: 2, output_per_mtok: 9, cached_input_per_mtok: 2 });
    expect((await t.a('PUT', '/v1/agent-prices/house-model', { input_per_mtok: 1, output_per_mtok: 1, cached_input_per_mtok: 0 })).status).toBe(200);

    const v2 = (await (await t.a('GET', '/v1/agent-prices')).json()) as Table;
    expect(v2.version).toBe(2);
    expect(v2.models['gpt-4o']).toMatchObject({ input_per_mtok: 2, source: 'tenant' });
    expect(v2.models['house-model']).toMatchObject({ input_per_mtok: 1, source: 'tenant' });

    expect((await t.a('DELETE', '/v1/agent-prices/gpt-4o')).status).toBe(204);
    const v3 = (await (await t.a('GET', '/v1/agent-prices')).json()) as Table;
    expect(v3.version).toBe(3);
    expect(v3.models['gpt-4o']).toMatchObject({ ...DEFAULT_PRICES['gpt-4o'], source: 'default' });
    // Earlier versions stay readable, and the list names each change.
    expect(((await (await t.a('GET', '/v1/agent-prices?version=1')).json()) as Table).models['gpt-4o']!.input_per_mtok).toBe(2);
    const versions = (await (await t.a('GET', '/v1/agent-prices/versions')).json()) as { items: { version: number; change: unknown }[] };
    expect(versions.items.map((v) => [v.version, v.change])).toEqual([
      [1, { action: 'put', model: 'gpt-4o' }],
      [2, { action: 'put', model: 'house-model' }],
      [3, { action: 'delete', model: 'gpt-4o' }],
    ]);
    // Another tenant sees none of it.
    expect(((await (await t.b('GET', '/v1/agent-prices')).json()) as Table).version).toBe(0);
  });

  it('refuses a bad price or model with 400 and saves nothing; removing a price the tenant does not have is a 404', async () => {
    const t = routeTestApp();
    const err = await expectError(await t.a('PUT', '/v1/agent-prices/gpt-4o', { input_per_mtok: -1, output_per_mtok: 'x', extra: 1 }), 400, 'bad_request');
    expect((err.details as { path: string }[]).map((d) => d.path).sort()).toEqual(['', 'input_per_mtok', 'output_per_mtok']);
    await expectError(await t.a('PUT', '/v1/agent-prices/has%20space', { input_per_mtok: 1, output_per_mtok: 1 }), 400, 'bad_request');
    await expectError(await t.a('DELETE', '/v1/agent-prices/gpt-4o'), 404, 'not_found');
    await expectError(await t.a('GET', '/v1/agent-prices?version=7'), 404, 'not_found');
    await expectError(await t.a('GET', '/v1/agent-prices?version=x'), 400, 'bad_request');
    expect(((await (await t.a('GET', '/v1/agent-prices/versions')).json()) as { items: unknown[] }).items).toEqual([]);
  });
});
