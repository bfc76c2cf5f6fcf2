import type { Hono } from 'hono';
import { parseTarget, redactTarget, type NotificationTarget } from '../../tenant-config/notification-targets.ts';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores } from '../stores.ts';
import { documentRoutes } from './documents.ts';

/**
 * CRUD for a tenant's notification targets. URLs are checked when a target is
 * saved (scheme, credentials, link-local and metadata addresses; loopback only
 * with NOTIFY_ALLOW_LOOPBACK) and again before every delivery. Readers see the
 * URL's origin only: a Slack webhook URL is its own secret.
 */
export function targetRoutes(deps: Pick<GatewayDeps, 'stores' | 'allowLoopbackTargets'>): Hono<TenantEnv> {
  const allowLoopback = deps.allowLoopbackTargets ?? false;
  return documentRoutes<NotificationTarget>({
    path: '/v1/notification-targets',
    what: 'notification target',
    store: () => requireStores(deps.stores).targets,
    parse: (body) => parseTarget(body, { allowLoopback }),
    present: (d) => ({ ...redactTarget(d.definition), id: d.id, created_at: d.created_at, updated_at: d.updated_at }),
  });
}
