import { Hono } from 'hono';
import { badRequest } from '../../lib/errors.ts';
import type { StoredDocument } from '../../sql/stores/documents.ts';
import { actionPlaceholders, PROPOSAL_VARIABLES, REDACTED } from '../../tenant-config/actions.ts';
import { parsePolicy, settingsSchema, type Policy, type RemediationSettings } from '../../tenant-config/remediation-policies.ts';
import { parseWith, readJson } from '../body.ts';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { REMEDIATION_SETTINGS_ID } from '../../tenant-config/remediation-policies.ts';
import { requireStores, type GatewayStores } from '../stores.ts';
import { auditChange, auditedDocumentRoutes } from './audited-documents.ts';
import { requireProposals } from './proposals.ts';

/**
 * A tenant's remediation policies (CRUD at /v1/remediation-policies) and
 * settings (GET/PUT /v1/remediation-settings). A policy is checked against
 * its action when saved, so a mistake shows now rather than when an
 * incident comes: the action exists, `auto` only runs a low-risk action,
 * and every `{{placeholder}}` of the action has a value (an incident fact
 * or one of the policy's `variables`). Every change is audited.
 */
export function remediationPolicyRoutes(deps: Pick<GatewayDeps, 'stores' | 'proposals' | 'secretBox'>): Hono<TenantEnv> {
  const stores = () => requireStores(deps.stores);
  const app = new Hono<TenantEnv>();

  app.get('/v1/remediation-settings', async (c) => {
    const tenant = c.get('tenant');
    return c.json(presentSettings(await stores().remediationSettings.get(tenant, REMEDIATION_SETTINGS_ID)));
  });

  app.put('/v1/remediation-settings', async (c) => {
    const tenant = c.get('tenant');
    const proposals = requireProposals(deps.proposals);
    const store = stores().remediationSettings;
    const input = parseWith(settingsSchema, await readJson(c.req.raw), 'remediation settings');
    const existing = await store.get(tenant, REMEDIATION_SETTINGS_ID);
    const { slack_signing_secret: secret, ...settings } = input;
    const definition: RemediationSettings = { ...settings };
    if (secret === undefined || secret === REDACTED) {
      if (existing?.definition.sealed_slack_signing_secret) definition.sealed_slack_signing_secret = existing.definition.sealed_slack_signing_secret;
    } else {
      if (!deps.secretBox) {
        throw invalidSettings('slack_signing_secret', 'secrets are kept encrypted, and this server has no AUTOPILOT_SECRET_KEY to encrypt them with');
      }
      definition.sealed_slack_signing_secret = deps.secretBox.seal(secret, slackSecretContext(tenant));
    }
    if (definition.slack_target_id !== undefined) await checkSlackTarget(stores(), tenant, definition.slack_target_id);
    // The one document has a fixed id: the first save writes it as a "replacement" of nothing.
    const doc = await store.replace(existing ?? { id: REMEDIATION_SETTINGS_ID, tenant, created_at: Date.now(), updated_at: 0, definition }, definition);
    try {
      await auditChange(proposals, existing ? 'updated' : 'created', 'settings', tenant, REMEDIATION_SETTINGS_ID, presentSettings(doc));
    } catch (err) {
      await (existing ? store.replace(doc, existing.definition) : store.delete(doc));
      throw err;
    }
    return c.json(presentSettings(doc));
  });

  app.route(
    '/',
    auditedDocumentRoutes<Policy>({
      path: '/v1/remediation-policies',
      what: 'remediation policy',
      subject: 'policy',
      store: () => stores().policies,
      proposals: () => requireProposals(deps.proposals),
      parse: async (body, o) => {
        const policy = parsePolicy(body);
        await checkAgainstAction(stores(), o.tenant, policy);
        return policy;
      },
      present: (d) => ({ id: d.id, ...d.definition, created_at: d.created_at, updated_at: d.updated_at }),
    }),
  );
  return app;
}

/** Where the Slack signing secret's sealed form belongs (lib/secrets.ts): it opens for this tenant's settings only. */
export const slackSecretContext = (tenant: string) => `${tenant}/settings/slack_signing_secret`;

async function checkAgainstAction(stores: GatewayStores, tenant: string, policy: Policy): Promise<void> {
  const action = await stores.actions.get(tenant, policy.action_id);
  if (!action) throw invalid('action_id', `no action ${policy.action_id}: create it first (POST /v1/actions)`);
  if (policy.mode === 'auto' && action.definition.risk !== 'low') {
    throw invalid(
      'mode',
      `auto runs without an approver, so only a low-risk action may be auto; action "${action.definition.name}" is ${action.definition.risk} risk: use approve, or lower the action's risk`,
    );
  }
  const known = new Set<string>([...PROPOSAL_VARIABLES, ...Object.keys(policy.variables)]);
  const unknown = actionPlaceholders(action.definition).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw invalid(
      'variables',
      `action "${action.definition.name}" uses ${unknown.map((n) => `{{${n}}}`).join(', ')}, which neither the incident (${PROPOSAL_VARIABLES.join(', ')}) nor this policy's variables give a value: add them to variables`,
    );
  }
}

async function checkSlackTarget(stores: GatewayStores, tenant: string, id: string): Promise<void> {
  const target = await stores.targets.get(tenant, id);
  if (!target) throw invalidSettings('slack_target_id', `no notification target ${id}`);
  if (target.definition.kind !== 'slack')
    throw invalidSettings('slack_target_id', `notification target ${id} is a ${target.definition.kind} target, not a Slack one`);
}

const refusal = (what: string) => (path: string, message: string) => badRequest(`invalid ${what}: ${path}: ${message}`, [{ path, message }]);
const invalid = refusal('remediation policy');
const invalidSettings = refusal('remediation settings');

/** The settings as the API shows them: the signing secret as "***" when one is kept, never in any form. */
function presentSettings(doc: StoredDocument<RemediationSettings> | undefined): Record<string, unknown> {
  if (!doc) return { approvers: [], updated_at: null };
  const { sealed_slack_signing_secret: sealed, ...rest } = doc.definition;
  return { ...rest, ...(sealed ? { slack_signing_secret: REDACTED } : {}), updated_at: doc.updated_at };
}
