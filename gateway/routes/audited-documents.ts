import { Hono } from 'hono';
import { AutopilotError, unavailable } from '../../lib/errors.ts';
import type { Proposals } from '../../platform/proposals.ts';
import type { AuditEvent } from '../../schemas/topics.ts';
import type { DocumentStore, StoredDocument } from '../../sql/stores/documents.ts';
import { readJson } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';

/**
 * CRUD for remediation configuration (actions, policies), as documentRoutes
 * does it, with two differences: a change is audited (`created`, `updated`,
 * `deleted`, the document as a reader sees it), and `parse` sees the tenant
 * and the stored version (an update keeps secrets it does not repeat).
 *
 * A change and its audit event go together: the change is written, then the
 * event published; if Kafka does not acknowledge, the change is undone and
 * the caller gets a 503 with nothing changed, so no change goes unaudited.
 */
export interface AuditedDocumentOptions<T> {
  path: string;
  what: string;
  subject: AuditEvent['subject_kind'];
  store: () => DocumentStore<T>;
  proposals: () => Proposals;
  parse: (body: unknown, o: { tenant: string; existing?: StoredDocument<T> }) => T | Promise<T>;
  present: (doc: StoredDocument<T>) => Record<string, unknown>;
  /** Refuses a delete (throws) while something still needs the document. */
  beforeDelete?: (doc: StoredDocument<T>) => Promise<void>;
}

export function auditedDocumentRoutes<T>(o: AuditedDocumentOptions<T>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  const found = async (tenant: string, id: string) => {
    const doc = await o.store().get(tenant, id);
    if (!doc) throw new AutopilotError('not_found', `no ${o.what} ${id}`);
    return doc;
  };
  const audited = async (event: 'created' | 'updated' | 'deleted', doc: StoredDocument<T>, undo: () => Promise<unknown>) => {
    try {
      await auditChange(o.proposals(), event, o.subject, doc.tenant, doc.id, o.present(doc));
    } catch (err) {
      await undo();
      throw err instanceof AutopilotError ? err : unavailable(`the ${o.what} was not changed: its audit event was not recorded`, err);
    }
  };

  app.get(o.path, async (c) => c.json({ items: (await o.store().list(c.get('tenant'))).map(o.present) }));

  app.post(o.path, async (c) => {
    const tenant = c.get('tenant');
    o.proposals(); // each write asks first: a 503 before anything is written when the audit cannot be
    const definition = await o.parse(await readJson(c.req.raw), { tenant });
    const doc = await o.store().create(tenant, definition);
    await audited('created', doc, () => o.store().delete(doc));
    return c.json(o.present(doc), 201);
  });

  app.get(`${o.path}/:id`, async (c) => c.json(o.present(await found(c.get('tenant'), c.req.param('id')))));

  app.put(`${o.path}/:id`, async (c) => {
    const tenant = c.get('tenant');
    o.proposals();
    const existing = await found(tenant, c.req.param('id'));
    const definition = await o.parse(await readJson(c.req.raw), { tenant, existing });
    const doc = await o.store().replace(existing, definition);
    await audited('updated', doc, () => o.store().replace(doc, existing.definition));
    return c.json(o.present(doc));
  });

  app.delete(`${o.path}/:id`, async (c) => {
    o.proposals();
    const existing = await found(c.get('tenant'), c.req.param('id'));
    await o.beforeDelete?.(existing);
    await o.store().delete(existing);
    // Undone by writing it back newer than the deletion row.
    await audited('deleted', existing, () =>
      o.store().replace({ ...existing, updated_at: Math.max(Date.now(), existing.updated_at + 1) }, existing.definition),
    );
    return c.body(null, 204);
  });

  return app;
}

/** One configuration change in the audit: who (the API), what, and the document as a reader sees it (secrets as "***"). */
export async function auditChange(
  proposals: Proposals,
  event: 'created' | 'updated' | 'deleted',
  subject: AuditEvent['subject_kind'],
  tenant: string,
  id: string,
  presented: Record<string, unknown>,
): Promise<void> {
  await proposals.audit({ tenant, actor: 'api', event, subject_kind: subject, subject_id: id, service: '', details: JSON.stringify(presented) });
}
