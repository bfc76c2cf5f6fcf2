import { createHmac } from 'node:crypto';
import type { Action } from '../../../tenant-config/actions.ts';
import { type BuildContext, fillAll, type OutgoingRequest } from './request.ts';

type WebhookAction = Extract<Action, { kind: 'webhook' }>;

/**
 * POSTs the proposal's facts and the action's templated `body` fields as
 * JSON to the action's URL. With a signing secret the body is signed as
 * GitHub and Stripe sign theirs: `X-Autopilot-Timestamp: <unix seconds>` and
 * `X-Autopilot-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`;
 * the timestamp is inside the signed text, so a receiver that refuses old
 * timestamps cannot be fed a captured request again later. Any 2xx is done.
 */
export function webhookRequest(a: WebhookAction, { vars, secrets, now }: BuildContext): OutgoingRequest {
  const body = JSON.stringify({
    proposal_id: vars.proposal_id ?? null,
    tenant: vars.tenant ?? null,
    service: vars.service ?? null,
    incident_id: vars.incident_id ?? null,
    action: a.name,
    ...fillAll(a.body ?? {}, vars),
  });
  // The tenant's own headers first, lower-cased so that ours replace theirs rather than travel beside them.
  const headers: Record<string, string> = Object.fromEntries(Object.entries(a.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  headers['content-type'] = 'application/json';
  if (secrets.signing_secret !== undefined) {
    const timestamp = String(Math.floor(now / 1000));
    headers['x-autopilot-timestamp'] = timestamp;
    headers['x-autopilot-signature'] = `sha256=${createHmac('sha256', secrets.signing_secret).update(`${timestamp}.${body}`).digest('hex')}`;
  }
  return { method: 'POST', url: a.url, headers, body };
}
