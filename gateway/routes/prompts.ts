import { Hono } from 'hono';
import { z } from 'zod';
import { AutopilotError, badRequest } from '../../lib/errors.ts';
import { checkPromptName, PROMPT_VARIABLES, checkTagName, parsePromptVersion, unifiedDiff } from '../../tenant-config/prompts.ts';
import type { GatewayDeps } from '../deps.ts';
import { parseWith, readBody, readJson } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores } from '../stores.ts';

/**
 * The prompt registry: versioned templates per tenant, their diffs, and tags
 * (`production`, `candidate`, …) that point at versions and move. The
 * analyst renders the version tagged `production`. A template may only use
 * the variables the analyst fills in, and must use {{context}}.
 */
const version = z.coerce.number().int().min(1);
const tagBody = z.strictObject({ version: z.number().int().min(1) });

export function promptRoutes(deps: Pick<GatewayDeps, 'stores'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  const prompts = () => requireStores(deps.stores).prompts;
  const found = async (tenant: string, name: string, v: number) => {
    const row = await prompts().version(tenant, name, v);
    if (!row) throw new AutopilotError('not_found', `no version ${v} of prompt ${name}`);
    return row;
  };

  app.get('/v1/prompts', async (c) => c.json({ items: await prompts().list(c.get('tenant')) }));

  app.post('/v1/prompts/:name/versions', async (c) => {
    const tenant = c.get('tenant');
    const name = checkPromptName(c.req.param('name'));
    const input = parsePromptVersion(await readJson(c.req.raw), ['context']);
    const unknown = input.variables.filter((v) => !(PROMPT_VARIABLES as readonly string[]).includes(v));
    if (unknown.length) {
      throw badRequest(
        `template uses ${unknown.map((v) => `{{${v}}}`).join(', ')}, which the analyst does not fill in; available: ${PROMPT_VARIABLES.join(', ')}`,
        { unknown, available: PROMPT_VARIABLES },
      );
    }
    const latest = await prompts().latestVersion(tenant, name);
    if (input.parent_version !== null && input.parent_version > latest)
      throw badRequest(`parent_version ${input.parent_version} does not exist (latest is ${latest || 'none'})`);
    const created = await prompts().create(tenant, name, { ...input, parent_version: input.parent_version ?? (latest || null) });
    return c.json(created, 201);
  });

  app.get('/v1/prompts/:name', async (c) => {
    const tenant = c.get('tenant');
    const name = c.req.param('name');
    const versions = await prompts().versions(tenant, name);
    if (versions.length === 0) throw new AutopilotError('not_found', `no prompt ${name}`);
    return c.json({
      name,
      versions: versions.map(({ template: _, tenant: __, ...v }) => v),
      tags: await prompts().tags(tenant, name),
    });
  });

  app.get('/v1/prompts/:name/versions/:version', async (c) => {
    const v = parseWith(version, c.req.param('version'), 'version');
    return c.json(await found(c.get('tenant'), c.req.param('name'), v));
  });

  app.get('/v1/prompts/:name/diff', async (c) => {
    const q = parseWith(z.strictObject({ from: version, to: version }), c.req.query(), 'query (from and to versions)');
    const name = c.req.param('name');
    const [a, b] = await Promise.all([found(c.get('tenant'), name, q.from), found(c.get('tenant'), name, q.to)]);
    return c.text(unifiedDiff(name, a, b), 200, { 'content-type': 'text/x-diff; charset=utf-8' });
  });

  app.put('/v1/prompts/:name/tags/:tag', async (c) => {
    const tenant = c.get('tenant');
    const name = c.req.param('name');
    const tag = checkTagName(c.req.param('tag'));
    const body = await readBody(c.req.raw, tagBody, 'tag');
    await found(tenant, name, body.version);
    await prompts().setTag(tenant, name, tag, body.version);
    return c.json({ name, tag, version: body.version });
  });

  app.delete('/v1/prompts/:name/tags/:tag', async (c) => {
    const tenant = c.get('tenant');
    const name = c.req.param('name');
    const tag = c.req.param('tag');
    const current = (await prompts().tags(tenant, name))[tag];
    if (current === undefined) throw new AutopilotError('not_found', `prompt ${name} has no tag ${tag}`);
    await prompts().setTag(tenant, name, tag, current, true);
    return c.body(null, 204);
  });

  return app;
}
