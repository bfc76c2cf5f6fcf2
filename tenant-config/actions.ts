import { z } from 'zod';
import { badRequest } from '../lib/errors.ts';
import type { SecretBox } from '../lib/secrets.ts';
import { placeholders } from '../lib/template.ts';
import { checkUrlShape } from './url-guard.ts';

/**
 * A tenant's remediation actions (`/v1/actions`): named, typed integrations
 * that a proposal runs once approved (processors/execute). Parameters may
 * hold `{{placeholders}}` filled from the incident (PROPOSAL_VARIABLES).
 * Secrets (a token, a signing secret) are write-only: the API takes them in
 * the clear, they are stored sealed (lib/secrets.ts) under `sealed`, never
 * shown back (`"***"`), and an update without them keeps the stored ones.
 *
 * - webhook: POST a JSON body to any URL, signed with HMAC-SHA256 when a
 *   signing secret is set (X-Autopilot-Signature, as GitHub signs webhooks).
 * - github_workflow: dispatch a workflow (POST /repos/{repo}/actions/
 *   workflows/{workflow}/dispatches) with `ref` and `inputs`: a rollback.
 * - kubernetes: restart a deployment (patch its pod template's
 *   kubectl.kubernetes.io/restartedAt annotation, as `kubectl rollout
 *   restart` does) or scale it, through the API server's REST API.
 * - docker: restart a container through the Docker Engine API.
 */
export const ACTION_KINDS = ['webhook', 'github_workflow', 'kubernetes', 'docker'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];
export const RISKS = ['low', 'medium', 'high'] as const;
export type Risk = (typeof RISKS)[number];

/** What `{{…}}` may name: the incident's facts, and a policy's own `variables`. */
export const PROPOSAL_VARIABLES = ['tenant', 'service', 'incident_id', 'severity', 'suspect_version', 'previous_version', 'proposal_id'] as const;

/** Where a placeholder is refused: names neither the incident's nor allowed by a policy's variables (checked there). */
const VARIABLE_NAME = /^[a-z_][a-z0-9_]{0,63}$/;
const templated = (max: number) =>
  z
    .string()
    .max(max)
    .superRefine((t, ctx) => {
      for (const name of placeholders(t)) {
        if (!VARIABLE_NAME.test(name)) ctx.addIssue({ code: 'custom', message: `{{${name}}} is not a variable name` });
      }
    });
const url = z.string().max(2048);
export const REDACTED = '***';
// At least 8 characters: a secret is hidden wherever it appears in what an execution records, and a short one would hide common text.
// "***" is what a read shows: sent back, it keeps the stored secret.
const secret = z.union([z.literal(REDACTED), z.string().min(8, 'at least 8 characters').max(8192)]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;

const common = {
  name: z.string().trim().min(1).max(100),
  description: z.string().max(1000).optional(),
  /** Only `low` actions may run in an `auto` policy. */
  risk: z.enum(RISKS),
};

export const actionInputSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      ...common,
      kind: z.literal('webhook'),
      url,
      headers: z
        .record(
          z.string().regex(HEADER_NAME, 'not a valid HTTP header name'),
          z
            .string()
            .max(4096)
            .regex(/^[^\r\n\0]*$/),
        )
        .optional(),
      /** Extra fields of the JSON body, templated. */
      body: z.record(z.string().min(1).max(100), templated(4096)).optional(),
      signing_secret: secret.optional(),
    }),
    z.strictObject({
      ...common,
      kind: z.literal('github_workflow'),
      api_url: url.default('https://api.github.com'),
      /** owner/name */
      repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'owner/name'),
      /** The workflow's file name (rollback.yml) or id. */
      workflow: z.string().min(1).max(200),
      ref: templated(200).default('main'),
      inputs: z.record(z.string().min(1).max(100), templated(1024)).optional(),
      token: secret.optional(),
    }),
    z.strictObject({
      ...common,
      kind: z.literal('kubernetes'),
      api_url: url,
      namespace: templated(253),
      deployment: templated(253),
      operation: z.enum(['restart', 'scale']),
      /** For scale. */
      replicas: z.number().int().min(0).max(1000).optional(),
      token: secret.optional(),
    }),
    z.strictObject({
      ...common,
      kind: z.literal('docker'),
      api_url: url,
      container: templated(253),
      /** Seconds the container gets to stop before it is killed. */
      stop_timeout: z.number().int().min(0).max(600).default(10),
    }),
  ],
  { error: (iss) => (iss.code === 'invalid_union' ? `must be one of ${ACTION_KINDS.join(', ')}` : undefined) },
);

export type ActionInput = z.infer<typeof actionInputSchema>;
/** The secret fields of each kind, by name. */
const SECRET_FIELDS = ['signing_secret', 'token'] as const;
type SecretField = (typeof SECRET_FIELDS)[number];

type WithoutSecrets<T> = T extends unknown ? Omit<T, SecretField> & { sealed: Partial<Record<SecretField, string>> } : never;
/** An action as stored: its secrets sealed, never in the clear. */
export type Action = WithoutSecrets<ActionInput>;

/** Where a sealed secret belongs: a copy in another tenant's row, or another field, does not open. */
export const secretContext = (tenant: string, field: string) => `${tenant}/action/${field}`;

/**
 * Parses an API body into an action: schema, then URL shape (the deployment's
 * loopback rule), then kind rules (scale needs replicas), then secrets
 * sealed. A secret left out, or sent back as "***", keeps `existing`'s.
 */
export function parseAction(body: unknown, o: { tenant: string; box: SecretBox | undefined; allowLoopback: boolean; existing?: Action }): Action {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('invalid action: expected one JSON object');
  const parsed = actionInputSchema.safeParse(body);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  if (parsed.success) {
    const a = parsed.data;
    try {
      checkUrlShape(a.kind === 'webhook' ? a.url : a.api_url, { allowLoopback: o.allowLoopback });
    } catch (err) {
      problems.push({ path: a.kind === 'webhook' ? 'url' : 'api_url', message: (err as Error).message });
    }
    if (a.kind === 'kubernetes' && a.operation === 'scale' && a.replicas === undefined) problems.push({ path: 'replicas', message: 'scale needs replicas' });
    if (a.kind === 'github_workflow' && !a.token && !o.existing?.sealed.token) problems.push({ path: 'token', message: 'the GitHub API needs a token' });
  }
  if (!parsed.success || problems.length) {
    throw badRequest(`invalid action: ${problems.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}`, problems);
  }
  const input = parsed.data as Record<string, unknown>;
  const sealed: Partial<Record<SecretField, string>> = {};
  for (const field of SECRET_FIELDS) {
    const value = input[field] as string | undefined;
    delete input[field];
    if (value === undefined || value === REDACTED) {
      const kept = o.existing?.sealed[field];
      if (kept) sealed[field] = kept;
      continue;
    }
    if (!o.box) throw badRequest(`${field}: secrets are kept encrypted, and this server has no AUTOPILOT_SECRET_KEY to encrypt them with`);
    sealed[field] = o.box.seal(value, secretContext(o.tenant, field));
  }
  return { ...input, sealed } as Action;
}

/** The action as the API shows it: each stored secret as "***". */
export function presentAction(a: Action): Record<string, unknown> {
  const { sealed, ...rest } = a;
  return { ...rest, ...Object.fromEntries(Object.keys(sealed).map((k) => [k, REDACTED])) };
}

/** Every `{{placeholder}}` an action's parameters use. */
export function actionPlaceholders(a: Action): string[] {
  const texts: string[] = [];
  if (a.kind === 'webhook') texts.push(...Object.values(a.body ?? {}));
  if (a.kind === 'github_workflow') texts.push(a.ref, ...Object.values(a.inputs ?? {}));
  if (a.kind === 'kubernetes') texts.push(a.namespace, a.deployment);
  if (a.kind === 'docker') texts.push(a.container);
  return [...new Set(texts.flatMap(placeholders))];
}
