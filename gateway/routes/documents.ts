import { Hono } from 'hono';
import { AutopilotError } from '../../lib/errors.ts';
import type { DocumentStore, StoredDocument } from '../../sql/stores/documents.ts';
import { readJson } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';

/**
 * CRUD for a tenant's configuration documents (alert rules, notification
 * targets): `parse` validates a body into the document (throwing a 400 that
 * says what is wrong) and `present` decides what a reader sees (a Slack URL
 * is a secret, a duration reads better as "5m" than as 300000).
 */
export interface DocumentRouteOptions<T> {
  path: string;
  what: string;
  store: () => DocumentStore<T>;
  parse: (body: unknown) => T;
  present: (doc: StoredDocument<T>) => unknown;
}

export function documentRoutes<T>(o: DocumentRouteOptions<T>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  const present = o.present;
  const found = async (tenant: string, id: string) => {
    const doc = await o.store().get(tenant, id);
    if (!doc) throw new AutopilotError('not_found', `no ${o.what} ${id}`);
    return doc;
  };

  app.get(o.path, async (c) => c.json({ items: (await o.store().list(c.get('tenant'))).map(present) }));

  app.post(o.path, async (c) => {
    const definition = o.parse(await readJson(c.req.raw));
    return c.json(present(await o.store().create(c.get('tenant'), definition)), 201);
  });

  app.get(`${o.path}/:id`, async (c) => c.json(present(await found(c.get('tenant'), c.req.param('id')))));

  app.put(`${o.path}/:id`, async (c) => {
    const existing = await found(c.get('tenant'), c.req.param('id'));
    const definition = o.parse(await readJson(c.req.raw));
    return c.json(present(await o.store().replace(existing, definition)));
  });

  app.delete(`${o.path}/:id`, async (c) => {
    await o.store().delete(await found(c.get('tenant'), c.req.param('id')));
    return c.body(null, 204);
  });

  return app;
}
