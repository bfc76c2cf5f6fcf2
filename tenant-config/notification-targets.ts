import { z } from 'zod';
import { AutopilotError } from '../lib/errors.ts';
import { SEVERITIES, severityRank } from '../lib/severity.ts';
import { checkUrlShape } from './url-guard.ts';

/** Whether a target wants a notification of this severity. */
export function wantsSeverity(target: Pick<NotificationTarget, 'min_severity'>, severity: string): boolean {
  return target.min_severity === undefined || severityRank(severity) >= severityRank(target.min_severity);
}

// An HTTP token (RFC 9110 §5.6.2); values without CR/LF, so a header cannot smuggle another.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const headerValue = z
  .string()
  .max(4096)
  .regex(/^[^\r\n\0]*$/, 'header values cannot contain CR, LF or NUL');
/** Headers the delivery sets itself; letting a tenant set them would break the request. */
const RESERVED_HEADERS = new Set(['host', 'content-type', 'content-length', 'transfer-encoding', 'connection', 'te', 'upgrade', 'expect']);

const common = {
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'ids are 1–64 letters, digits, dot, underscore or dash')
    .optional(),
  name: z.string().trim().min(1).max(100),
  url: z.string(),
  enabled: z.boolean().default(true),
  min_severity: z.enum(SEVERITIES).optional(),
};

/**
 * A tenant's notification target: a Slack incoming webhook or a generic JSON
 * webhook. Strict: unknown keys are refused, and `headers` only exists on
 * webhooks (a Slack webhook URL is its own secret).
 */
export const notificationTargetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...common, kind: z.literal('slack') }),
  z.strictObject({
    ...common,
    kind: z.literal('webhook'),
    headers: z
      .record(z.string(), headerValue)
      .superRefine((h, ctx) => {
        const names = Object.keys(h);
        if (names.length > 20) ctx.addIssue({ code: 'custom', message: 'at most 20 headers' });
        for (const name of names) {
          if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'not a valid HTTP header name' });
          else if (RESERVED_HEADERS.has(name.toLowerCase())) {
            ctx.addIssue({ code: 'custom', path: [name], message: `set by Autopilot; these cannot be set: ${[...RESERVED_HEADERS].join(', ')}` });
          }
        }
      })
      .optional(),
  }),
]);

export type NotificationTarget = z.infer<typeof notificationTargetSchema>;

/**
 * Validates a target from the API: schema first, then the URL's shape
 * (scheme, credentials, refused hosts). Both fail as `invalid_target` (400),
 * with the schema's issues as details.
 */
export function parseTarget(input: unknown, opts: { allowLoopback: boolean } = { allowLoopback: false }): NotificationTarget {
  const parsed = notificationTargetSchema.safeParse(input);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new AutopilotError('invalid_target', `invalid notification target: ${details.map((d) => `${d.path || '(root)'}: ${d.message}`).join('; ')}`, {
      details,
    });
  }
  refuseRedacted(parsed.data);
  checkUrlShape(parsed.data.url, opts);
  return parsed.data;
}

const REDACTED_URL = '…';
const REDACTED_HEADER = '***';

/**
 * A target read back from the API carries placeholders for its secrets
 * (redactTarget). Saved as it was shown, the placeholder would replace the
 * real webhook URL or token and every notification would fail later, out of
 * sight: refuse it now, saying what to send.
 */
function refuseRedacted(target: NotificationTarget): void {
  const redacted = [
    ...(target.url === REDACTED_URL || target.url.endsWith(`/${REDACTED_URL}`) ? ['url'] : []),
    ...Object.entries(target.kind === 'webhook' ? (target.headers ?? {}) : {})
      .filter(([, v]) => v === REDACTED_HEADER)
      .map(([k]) => `headers.${k}`),
  ];
  if (redacted.length === 0) return;
  throw new AutopilotError('invalid_target', `${redacted.join(', ')}: the hidden form shown on read was sent back; send the full value again`, {
    details: redacted.map((path) => ({ path, message: 'placeholder for a secret, not a value' })),
  });
}

/**
 * A target fit to show back or log: a Slack webhook's path and a webhook's
 * header values are secrets, so only the URL's origin and the header names remain.
 */
export function redactTarget(target: NotificationTarget): NotificationTarget {
  let url = target.url;
  try {
    const u = new URL(target.url);
    url = u.pathname === '/' && u.search === '' ? u.origin : `${u.origin}/${REDACTED_URL}`;
  } catch {
    url = REDACTED_URL;
  }
  if (target.kind === 'slack') return { ...target, url };
  const headers = target.headers && Object.fromEntries(Object.keys(target.headers).map((k) => [k, REDACTED_HEADER]));
  return { ...target, url, ...(headers ? { headers } : {}) };
}
