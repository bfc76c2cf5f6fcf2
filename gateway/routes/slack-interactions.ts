import { Hono } from 'hono';
import { z } from 'zod';
import { AutopilotError, badRequest, unavailable } from '../../lib/errors.ts';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { slackSignatureProblem } from '../slack-signature.ts';
import { REMEDIATION_SETTINGS_ID } from '../../tenant-config/remediation-policies.ts';
import { requireStores } from '../stores.ts';
import { decide, mayDecide, requireProposals, type Decision } from './proposals.ts';
import { slackSecretContext } from './remediation-policies.ts';

/**
 * The Approve / Reject buttons of a proposal's Slack message (Slack app
 * interactivity, Request URL `https://<gateway>/slack/interactions/<tenant>`).
 * Slack holds no API key: the request is the tenant's when it carries a
 * valid signature under the tenant's Slack signing secret
 * (/v1/remediation-settings), a timestamp within five minutes, and a
 * signature not used before. Anything else is a 401 and changes nothing.
 *
 * The payload (form field `payload`, JSON) is a `block_actions` with one
 * button: `approve_proposal` or `reject_proposal`, its value the proposal
 * id; the Slack user is the approver, as `slack:<user id>`. The answer
 * replaces the message's buttons with what happened; a user who may not
 * decide, or a proposal already decided, is told so and nothing changes.
 */
const payloadSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1).max(64) }),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().max(256).optional() })).min(1),
});

// A Map, not an object: an action_id such as "constructor" must not find anything.
const DECISIONS = new Map<string, Decision>([
  ['approve_proposal', 'approved'],
  ['reject_proposal', 'rejected'],
]);

export function slackInteractionRoutes(deps: Pick<GatewayDeps, 'stores' | 'proposals' | 'secretBox' | 'slackReplays'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();

  app.post('/slack/interactions/:tenant', async (c) => {
    const tenant = c.req.param('tenant');
    const stores = requireStores(deps.stores);
    const proposals = requireProposals(deps.proposals);
    if (!deps.slackReplays) throw unavailable('Slack interactions are checked for replays in Redis, which this gateway is not connected to', undefined, 30);
    const body = await c.req.text();

    const sealed = (await stores.remediationSettings.get(tenant, REMEDIATION_SETTINGS_ID))?.definition.sealed_slack_signing_secret;
    // One answer for "no such tenant" and "no secret": the URL tells a stranger nothing about which tenants exist.
    if (!sealed || !deps.secretBox) throw new AutopilotError('unauthorized', 'Slack interactions are not set up here (no Slack signing secret)');
    let secret: string;
    try {
      secret = deps.secretBox.open(sealed, slackSecretContext(tenant));
    } catch (err) {
      throw new AutopilotError('unauthorized', "the Slack signing secret cannot be read with this server's AUTOPILOT_SECRET_KEY: save it again", {
        cause: err,
      });
    }
    const signature = c.req.header('x-slack-signature');
    const problem = slackSignatureProblem({ secret, timestamp: c.req.header('x-slack-request-timestamp'), signature, body });
    if (problem) throw new AutopilotError('unauthorized', `not a request from Slack: ${problem}`);
    if (!(await deps.slackReplays.firstUse(tenant, signature!)))
      throw new AutopilotError('unauthorized', 'not a request from Slack: this signature was used before (a replay)');

    try {
      const payload = parsePayload(body);
      const action = payload.actions[0]!;
      const decision = DECISIONS.get(action.action_id);
      if (!decision || !action.value) throw badRequest(`not a proposal button: action_id ${action.action_id}`);
      const approver = `slack:${payload.user.id}`;
      if (!(await mayDecide(stores, tenant, approver))) {
        // The message keeps its buttons for those who may press them.
        return c.json({
          replace_original: false,
          response_type: 'ephemeral',
          text: `<@${payload.user.id}> is not one of the approvers of these proposals: nothing changed.`,
        });
      }
      try {
        const p = await decide(stores, proposals, tenant, action.value, decision, approver, undefined);
        return c.json({ replace_original: true, text: `${p.action_name} on ${p.service}: ${p.status} by <@${payload.user.id}> (proposal ${p.proposal_id}).` });
      } catch (err) {
        if (!(err instanceof AutopilotError) || (err.code !== 'conflict' && err.code !== 'not_found')) throw err;
        return c.json({ replace_original: err.code === 'conflict', text: `Nothing changed: ${err.message}.` });
      }
    } catch (err) {
      // A request that was refused for a dependency may be sent again: its signature is not spent.
      if (err instanceof AutopilotError && err.retriable) await deps.slackReplays.release(tenant, signature!);
      throw err;
    }
  });

  return app;
}

function parsePayload(body: string): z.infer<typeof payloadSchema> {
  const text = new URLSearchParams(body).get('payload');
  if (text === null) throw badRequest('expected a form body with a payload field, as Slack sends');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw badRequest('payload is not JSON');
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success)
    throw badRequest(
      'not a block_actions payload with a button',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  return parsed.data;
}
