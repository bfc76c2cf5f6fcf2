import { Hono } from 'hono';
import { z } from 'zod';
import { AutopilotError } from '../../lib/errors.ts';
import type { GatewayDeps } from '../deps.ts';
import { parseWith, readBody } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores } from '../stores.ts';
import { listProposals } from './proposals.ts';

/**
 * The incidents people read and judge: list, one with its timeline and
 * analysis, and feedback on whether the analysis helped (the outcome prompt
 * experiments compare). Everything is scoped to the caller's tenant.
 */
const listQuery = z.strictObject({
  service: z.string().min(1).max(256).optional(),
  status: z.enum(['open', 'resolved']).optional(),
  since: z.union([z.coerce.number().int().positive(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
});

export const feedbackBody = z.strictObject({
  helpful: z.boolean(),
  comment: z.string().max(4000).optional(),
});

const cursorShape = z.strictObject({ opened_at: z.number().int(), incident_id: z.string() });

export function incidentRoutes(deps: Pick<GatewayDeps, 'stores' | 'proposals'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();

  app.get('/v1/incidents', async (c) => {
    const q = parseWith(listQuery, c.req.query(), 'query');
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const incidents = await requireStores(deps.stores).incidents.list(c.get('tenant'), { ...q, after });
    const last = incidents.at(-1);
    const next_cursor = incidents.length === q.limit && last ? encodeCursor({ opened_at: last.opened_at, incident_id: last.incident_id }) : null;
    return c.json({ incidents, next_cursor });
  });

  app.get('/v1/incidents/:id', async (c) => {
    const stores = requireStores(deps.stores);
    const tenant = c.get('tenant');
    const incident = await stores.incidents.get(tenant, c.req.param('id'));
    if (!incident) throw new AutopilotError('not_found', `no incident ${c.req.param('id')}`);
    // The remediation proposed for it, so the analysis's recommended actions lead to something to approve (GET /v1/proposals/{id}).
    const proposed = await listProposals(stores, deps.proposals, tenant, { incident_id: incident.incident_id, limit: 100 });
    const proposals = proposed.map((p) => ({ proposal_id: p.proposal_id, action_id: p.action_id, action_name: p.action_name, mode: p.mode, status: p.status }));
    return c.json({ ...incident, proposals });
  });

  app.post('/v1/incidents/:id/feedback', async (c) => {
    const stores = requireStores(deps.stores);
    const body = await readBody(c.req.raw, feedbackBody, 'feedback');
    const tenant = c.get('tenant');
    const id = c.req.param('id');
    if (!(await stores.incidents.exists(tenant, id))) throw new AutopilotError('not_found', `no incident ${id}`);
    const saved = await stores.incidents.addFeedback(tenant, id, body);
    return c.json({ incident_id: id, ...saved }, 201);
  });

  return app;
}

// Opaque to clients: where the previous page ended, in the list's order.
const encodeCursor = (c: z.infer<typeof cursorShape>) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(cursor: string): z.infer<typeof cursorShape> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AutopilotError('bad_request', 'cursor is not one this API gave out');
  }
  return parseWith(cursorShape, value, 'cursor');
}
