import { z } from 'zod';
import { badRequest } from '../lib/errors.ts';
import { SEVERITIES } from '../lib/severity.ts';
import { durationText } from './duration.ts';

/**
 * When to propose which action (`/v1/remediation-policies`): a policy
 * watches incidents (opened or updated), firing alerts, or analyses, and for
 * one that matches proposes its action with the incident's facts as the
 * action's `{{variables}}` (PROPOSAL_VARIABLES in actions.ts, plus the
 * policy's own `variables`).
 *
 * Modes: `suggest` (a proposal to read, never run), `approve` (runs once an
 * approver approves it), `auto` (runs at once; only for a low-risk action,
 * checked when the policy is saved and again when it runs). Guards: at most
 * `max_per_service_per_hour` executions per service, none while another
 * runs on the service, and `dry_run` (everything but the call).
 */
export const POLICY_MODES = ['suggest', 'approve', 'auto'] as const;
export const POLICY_TRIGGERS = ['incident', 'alert', 'analysis'] as const;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const service = z.string().min(1).max(256);

export const policySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  enabled: z.boolean().default(true),
  on: z.enum(POLICY_TRIGGERS).default('incident'),
  match: z
    .strictObject({
      /** Only these services; none: any. */
      services: z.array(service).max(100).optional(),
      /** At least this severity (incident, alert or analysis severity). */
      min_severity: z.enum(SEVERITIES).optional(),
      /** Only when the incident names a suspect deployment (true) or does not (false). */
      suspect_deployment: z.boolean().optional(),
      /** For alerts: only this alert name. */
      alert_name: z.string().min(1).max(200).optional(),
      /** For analyses: only when the root cause mentions this (case-insensitive), e.g. "deploy" or a provider's name. */
      root_cause_contains: z.string().min(1).max(200).optional(),
    })
    .default({}),
  action_id: z.string().min(1).max(64),
  /** Fixed values for the action's `{{placeholders}}` beyond the incident's (a namespace, a replica count). */
  variables: z.record(z.string().regex(/^[a-z_][a-z0-9_]{0,63}$/, 'a variable name: lower case, digits, _'), z.string().max(1024)).default({}),
  mode: z.enum(POLICY_MODES),
  max_per_service_per_hour: z.number().int().min(1).max(100).default(3),
  dry_run: z.boolean().default(false),
  /** An unapproved proposal expires after this. */
  ttl: durationText(7 * DAY, 60_000).default('30m'),
  /** The incident resolving within this after the action ran makes the action effective. */
  verify_within: durationText(DAY, 60_000).default('15m'),
});

export type Policy = z.infer<typeof policySchema>;

/** Parses an API body into a policy; that its action exists and fits the mode is the route's check (it needs the store). */
export function parsePolicy(body: unknown): Policy {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('invalid policy: expected one JSON object');
  const parsed = policySchema.safeParse(body);
  if (parsed.success) {
    if (parsed.data.match.alert_name && parsed.data.on !== 'alert')
      throw badRequest('invalid policy: match.alert_name: only for on: alert', [{ path: 'match.alert_name', message: 'only for on: alert' }]);
    if (parsed.data.match.root_cause_contains && parsed.data.on !== 'analysis') {
      throw badRequest('invalid policy: match.root_cause_contains: only for on: analysis', [
        { path: 'match.root_cause_contains', message: 'only for on: analysis' },
      ]);
    }
    return parsed.data;
  }
  const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw badRequest(`invalid policy: ${details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}`, details);
}

/**
 * The tenant's remediation settings (`/v1/remediation-settings`): who may
 * approve (names given with an API approval, Slack user ids as
 * `slack:U0123`; empty: anyone holding the tenant's key, and any user of the
 * Slack app), and the Slack app's signing secret for its buttons (sealed,
 * write-only, as action secrets are).
 */
/** The id of a tenant's one settings document. */
export const REMEDIATION_SETTINGS_ID = 'settings';

export const settingsSchema = z.strictObject({
  approvers: z.array(z.string().min(1).max(200)).max(200).default([]),
  slack_signing_secret: z.string().min(1).max(200).optional(),
  /** The Slack notification target proposals are posted to with Approve / Reject buttons. */
  slack_target_id: z.string().min(1).max(64).optional(),
});
export type SettingsInput = z.infer<typeof settingsSchema>;
export type RemediationSettings = Omit<SettingsInput, 'slack_signing_secret'> & { sealed_slack_signing_secret?: string };
