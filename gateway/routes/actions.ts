import type { Hono } from 'hono';
import { AutopilotError } from '../../lib/errors.ts';
import { parseAction, presentAction, type Action } from '../../tenant-config/actions.ts';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores } from '../stores.ts';
import { auditedDocumentRoutes } from './audited-documents.ts';
import { requireProposals } from './proposals.ts';

/**
 * CRUD for a tenant's remediation actions (tenant-config/actions.ts). URLs
 * pass the SSRF guard with the notifier's loopback rule. Secrets are sealed
 * with AUTOPILOT_SECRET_KEY, shown as "***" and never in any form (the
 * sealed text included); a PUT without them keeps the stored ones. An
 * action a policy uses cannot be deleted (409 naming the policies).
 */
export function actionRoutes(deps: Pick<GatewayDeps, 'stores' | 'allowLoopbackTargets' | 'proposals' | 'secretBox'>): Hono<TenantEnv> {
  const allowLoopback = deps.allowLoopbackTargets ?? false;
  return auditedDocumentRoutes<Action>({
    path: '/v1/actions',
    what: 'action',
    subject: 'action',
    store: () => requireStores(deps.stores).actions,
    proposals: () => requireProposals(deps.proposals),
    parse: (body, o) => parseAction(body, { tenant: o.tenant, box: deps.secretBox, allowLoopback, existing: o.existing?.definition }),
    present: (d) => ({ id: d.id, ...presentAction(d.definition), created_at: d.created_at, updated_at: d.updated_at }),
    beforeDelete: async (d) => {
      const users = (await requireStores(deps.stores).policies.list(d.tenant)).filter((p) => p.definition.action_id === d.id);
      if (users.length === 0) return;
      const named = users.map((p) => ({ id: p.id, name: p.definition.name }));
      throw new AutopilotError(
        'conflict',
        `action ${d.id} is used by ${named.map((p) => `policy "${p.name}" (${p.id})`).join(', ')}: change or delete those policies first`,
        { details: { policies: named } },
      );
    },
  });
}
