import type { Hono } from 'hono';
import { parseRule, toRuleInput, type Rule } from '../../tenant-config/alert-rules.ts';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores } from '../stores.ts';
import { documentRoutes } from './documents.ts';

/** CRUD for a tenant's alert rules; the alert processor picks changes up within ALERT_RULES_REFRESH_SECONDS. */
export function alertRuleRoutes(deps: Pick<GatewayDeps, 'stores'>): Hono<TenantEnv> {
  return documentRoutes<Rule>({
    path: '/v1/alert-rules',
    what: 'alert rule',
    store: () => requireStores(deps.stores).rules,
    parse: parseRule,
    present: (d) => ({ id: d.id, created_at: d.created_at, updated_at: d.updated_at, ...toRuleInput(d.definition) }),
  });
}
