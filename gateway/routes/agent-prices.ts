import { Hono } from 'hono';
import { z } from 'zod';
import { AutopilotError } from '../../lib/errors.ts';
import type { PriceVersion } from '../../sql/stores/agent-prices.ts';
import { checkModelName, DEFAULT_PRICES, DEFAULT_PRICES_DATE, effectiveTable, parseModelPrice } from '../../tenant-config/agent-prices.ts';
import type { GatewayDeps } from '../deps.ts';
import { parseWith, readJson } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores } from '../stores.ts';

/**
 * The tenant's LLM price table, which the agents processor prices calls
 * with when they do not carry their own cost: the built-in prices (as of
 * DEFAULT_PRICES_DATE) with the tenant's own over them. Every PUT or DELETE
 * makes a new version; a call is priced with the version in force when it
 * started, and agent_calls.price_version says which.
 */
const versionQuery = z.strictObject({ version: z.coerce.number().int().min(0).optional() });

export function agentPriceRoutes(deps: Pick<GatewayDeps, 'stores'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  const prices = () => requireStores(deps.stores).agentPrices;

  app.get('/v1/agent-prices', async (c) => {
    const q = parseWith(versionQuery, c.req.query(), 'query');
    const tenant = c.get('tenant');
    const found = q.version === undefined ? await prices().latest(tenant) : await prices().version(tenant, q.version);
    if (!found) throw new AutopilotError('not_found', `no version ${q.version} of this tenant's price table`);
    return c.json(present(found));
  });

  app.get('/v1/agent-prices/versions', async (c) => {
    const versions = await prices().versions(c.get('tenant'));
    return c.json({
      items: versions.map((v) => ({ version: v.version, change: v.change, created_at: v.created_at, models: Object.keys(v.overrides).length })),
    });
  });

  app.put('/v1/agent-prices/:model', async (c) => {
    const model = checkModelName(c.req.param('model'));
    const price = parseModelPrice(await readJson(c.req.raw));
    const saved = await prices().change(c.get('tenant'), model, price);
    return c.json({ version: saved!.version, model, ...price, created_at: saved!.created_at });
  });

  app.delete('/v1/agent-prices/:model', async (c) => {
    const model = c.req.param('model');
    const saved = await prices().change(c.get('tenant'), model, undefined);
    if (!saved)
      throw new AutopilotError(
        'not_found',
        `this tenant has no price of its own for ${model}${Object.hasOwn(DEFAULT_PRICES, model) ? ' (the built-in one applies)' : ''}`,
      );
    return c.body(null, 204);
  });

  return app;
}

/** The effective table at one version: every model, its rates, and whether the price is the tenant's or built in. */
function present(v: PriceVersion) {
  const table = effectiveTable(v.version, v.overrides);
  const models = Object.fromEntries(
    Object.keys(table.prices)
      .sort()
      .map((m) => [m, { ...table.prices[m]!, source: Object.hasOwn(v.overrides, m) ? 'tenant' : 'default' }]),
  );
  return {
    version: v.version,
    created_at: v.version === 0 ? null : v.created_at,
    defaults_date: DEFAULT_PRICES_DATE,
    currency: 'USD',
    unit: 'per million tokens',
    models,
  };
}
