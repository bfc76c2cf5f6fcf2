import { Hono } from 'hono';
import { AutopilotError, badRequest } from '../../lib/errors.ts';
import { experimentReport, parseExperiment } from '../../tenant-config/experiments.ts';
import type { StoredDocument } from '../../sql/stores/documents.ts';
import type { Experiment } from '../../tenant-config/experiments.ts';
import type { GatewayDeps } from '../deps.ts';
import { readJson } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores, type GatewayStores } from '../stores.ts';

/**
 * Prompt experiments: two or more versions of a prompt split the analyst's
 * incidents (by SHA-256 of the incident id), and the helpful rate of the
 * feedback decides. The report compares each variant with the control by a
 * two-proportion z-test, and says "not enough data" below `min_sample`.
 */
export function experimentRoutes(deps: Pick<GatewayDeps, 'stores'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  const stores = () => requireStores(deps.stores);
  const present = (d: StoredDocument<Experiment>) => ({ id: d.id, status: d.status, created_at: d.created_at, updated_at: d.updated_at, ...d.definition });
  const found = async (tenant: string, id: string) => {
    const doc = await stores().experiments.get(tenant, id);
    if (!doc) throw new AutopilotError('not_found', `no experiment ${id}`);
    return doc;
  };

  app.get('/v1/experiments', async (c) => c.json({ items: (await stores().experiments.list(c.get('tenant'))).map(present) }));

  app.post('/v1/experiments', async (c) => {
    const tenant = c.get('tenant');
    const experiment = parseExperiment(await readJson(c.req.raw));
    await checkVersionsExist(stores(), tenant, experiment);
    return c.json(present(await stores().experiments.create(tenant, experiment, { status: 'running' })), 201);
  });

  app.get('/v1/experiments/:id', async (c) => {
    const tenant = c.get('tenant');
    const doc = await found(tenant, c.req.param('id'));
    const counts = await stores().incidents.experimentCounts(tenant, doc.id);
    return c.json({ ...present(doc), report: experimentReport(doc.definition, counts) });
  });

  app.post('/v1/experiments/:id/stop', async (c) => {
    const doc = await found(c.get('tenant'), c.req.param('id'));
    return c.json(present(await stores().experiments.replace(doc, doc.definition, { status: 'stopped' })));
  });

  return app;
}

/** Every variant's prompt version must exist for the tenant (0 is the built-in prompt). */
async function checkVersionsExist(stores: GatewayStores, tenant: string, e: Experiment): Promise<void> {
  for (const v of e.variants) {
    if (v.prompt_version === 0) continue;
    if (!(await stores.prompts.version(tenant, e.prompt, v.prompt_version))) {
      throw badRequest(`variant ${v.name}: prompt ${e.prompt} has no version ${v.prompt_version}`);
    }
  }
}
