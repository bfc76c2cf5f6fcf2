import { describeError } from '../../lib/errors.ts';
import { redact } from '../../lib/redact.ts';
import type { SecretBox } from '../../lib/secrets.ts';
import { type Action, secretContext } from '../../tenant-config/actions.ts';
import { guardedRequest, type RequestFn } from '../../tenant-config/guarded-http.ts';
import { checkOutgoingUrl, type GuardOptions } from '../../tenant-config/url-guard.ts';
import { dockerRequest } from './clients/docker.ts';
import { githubWorkflowRequest } from './clients/github-workflow.ts';
import { kubernetesRequest } from './clients/kubernetes.ts';
import { type BuildContext, type OpenSecrets, type OutgoingRequest, UnusableAction } from './clients/request.ts';
import { webhookRequest } from './clients/webhook.ts';

/** What one run of an action did, as the audit shows it. Nothing in it holds a secret. */
export interface ActionRun {
  /** Method, URL and body as sent (no headers), secrets replaced by "***"; '' when nothing was built. */
  request: string;
  /** The answer's status, null when there was none (refused by the guard, network error, timeout). */
  status_code: number | null;
  /** The start of the answer's body, at most 2 KiB, secrets and credentials redacted. */
  response_excerpt: string;
  duration_ms: number;
  ok: boolean;
  /** Why it is not ok: the status and the answer's own message, or what stopped the call. */
  error: string | null;
}

export interface RunActionOptions {
  tenant: string;
  /** Opens the action's sealed secrets; undefined when the server has no AUTOPILOT_SECRET_KEY. */
  box: SecretBox | undefined;
  guard: GuardOptions;
  /** Ends the call (a timeout, a shutdown); the run then reports no answer. */
  signal: AbortSignal;
  /** Sent as Idempotency-Key on every call: the proposal id, so a receiver that dedupes sees one run however often it arrives. */
  idempotencyKey: string;
  /** The HTTP client; the SSRF-guarded one unless a test says otherwise. */
  http?: RequestFn;
}

/** An answer's body is read up to this much; the excerpt keeps less. */
const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_EXCERPT_BYTES = 2048;
const MAX_MESSAGE_CHARS = 300;
const USER_AGENT = 'autopilot-execute';
/** Header names whose values are credentials (a tenant's X-Api-Key on a webhook, our Authorization): kept out of what is returned, like the sealed secrets. */
const CREDENTIAL_HEADER = /auth|token|secret|passw|key|cookie/i;

/**
 * Runs an action once: builds its call from the proposal's variables, opens
 * its secrets for that call only, checks the URL with the SSRF guard, sends
 * it through the guarded client (redirects not followed) and reports what
 * happened. A refusal, a network error, a timeout or a non-success answer is
 * a run with `ok: false` and an `error`; only a programming error throws.
 * It never retries: a retried restart or dispatch may act twice, so whether
 * to run again is the executor's decision, not a client's.
 */
export async function runAction(action: Action, vars: Record<string, string>, o: RunActionOptions): Promise<ActionRun> {
  const started = performance.now();
  const run = (fields: Partial<ActionRun>): ActionRun => ({
    request: '',
    status_code: null,
    response_excerpt: '',
    ok: false,
    error: null,
    ...fields,
    duration_ms: Math.round(performance.now() - started),
  });

  let req: OutgoingRequest;
  let secrets: OpenSecrets;
  try {
    secrets = openSecrets(action, o.tenant, o.box);
    req = buildRequest(action, { vars, secrets, now: Date.now() });
  } catch (err) {
    if (err instanceof UnusableAction) return run({ error: `not sent: ${err.message}` });
    throw err;
  }
  const hide = hider([...Object.values(secrets), ...Object.entries(req.headers).flatMap(([name, value]) => (CREDENTIAL_HEADER.test(name) ? [value] : []))]);
  const request = hide(`${req.method} ${req.url}${req.body ? `\n${req.body}` : ''}`);

  try {
    await checkOutgoingUrl(req.url, o.guard);
  } catch (err) {
    return run({ request, error: `not sent: ${hide(describeError(err))}` });
  }

  const send = o.http ?? guardedRequest(o.guard, { maxBodyBytes: MAX_ANSWER_BYTES });
  let status: number;
  let text: string;
  try {
    const res = await send(req.url, {
      method: req.method,
      headers: { ...req.headers, 'user-agent': USER_AGENT, 'idempotency-key': o.idempotencyKey },
      body: req.body,
      signal: o.signal,
      redirect: 'manual',
    });
    status = res.status;
    text = await res.text();
  } catch (err) {
    // Whether it reached the receiver is unknown: the audit says so rather than guessing.
    const why = o.signal.aborted ? `aborted (${describeError(o.signal.reason)})` : transportError(err);
    return run({ request, error: `no answer: ${hide(why)}` });
  }

  const ok = req.expectStatus === undefined ? status >= 200 && status < 300 : status === req.expectStatus;
  return run({
    request,
    status_code: status,
    response_excerpt: cutUtf8(redact(hide(text)), MAX_EXCERPT_BYTES),
    ok,
    error: ok ? null : redact(answerError(status, hide(text), req.expectStatus)),
  });
}

function buildRequest(action: Action, ctx: BuildContext): OutgoingRequest {
  switch (action.kind) {
    case 'webhook':
      return webhookRequest(action, ctx);
    case 'github_workflow':
      return githubWorkflowRequest(action, ctx);
    case 'kubernetes':
      return kubernetesRequest(action, ctx);
    case 'docker':
      return dockerRequest(action, ctx);
    default: {
      const unknown: never = action;
      throw new Error(`no client for action kind ${(unknown as Action).kind}`);
    }
  }
}

/** Every sealed secret of the action opened, at call time, under its tenant and field. */
function openSecrets(action: Action, tenant: string, box: SecretBox | undefined): OpenSecrets {
  const open: OpenSecrets = {};
  for (const [field, sealed] of Object.entries(action.sealed) as [keyof OpenSecrets, string | undefined][]) {
    if (sealed === undefined) continue;
    if (!box) throw new UnusableAction(`${field} is stored encrypted, and this server has no AUTOPILOT_SECRET_KEY to open it`);
    try {
      open[field] = box.open(sealed, secretContext(tenant, field));
    } catch (err) {
      throw new UnusableAction(`${field}: ${describeError(err)}`);
    }
  }
  return open;
}

/**
 * Replaces every given value with "***" wherever it shows: as sent, as
 * JSON escapes it, and as a URL encodes it (a receiver echoing a header, an
 * error quoting a URL). Longest first, so a value inside another goes with it.
 */
function hider(values: string[]): (text: string) => string {
  const forms = [...new Set(values.filter((v) => v !== '').flatMap((v) => [v, JSON.stringify(v).slice(1, -1), encodeURIComponent(v)]))];
  forms.sort((a, b) => b.length - a.length);
  return (text) => forms.reduce((out, form) => out.split(form).join('***'), text);
}

/** "HTTP 404: No such container: web" — the answer's own message (GitHub, Kubernetes and Docker all answer JSON with `message`), else its text. */
function answerError(status: number, body: string, expected: number | undefined): string {
  let message = body.trim();
  try {
    const parsed = JSON.parse(message) as unknown;
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string') {
      message = (parsed as { message: string }).message;
    }
  } catch {
    // Not JSON: the text is the message.
  }
  message = message.replace(/\s+/g, ' ').slice(0, MAX_MESSAGE_CHARS);
  const head =
    status >= 300 && status < 400
      ? `HTTP ${status} (redirects are not followed)`
      : status >= 200 && status < 300 && expected !== undefined
        ? `HTTP ${status}, expected ${expected}`
        : `HTTP ${status}`;
  return message ? `${head}: ${message}` : head;
}

/** A network error with its cause ("fetch failed" says nothing; ECONNREFUSED 10.0.0.5:443 does). */
function transportError(err: unknown): string {
  const cause = (err as { cause?: unknown })?.cause;
  return cause ? `${describeError(err)}: ${describeError(cause)}` : describeError(err);
}

/** At most `max` bytes of UTF-8, never half a character. */
function cutUtf8(text: string, max: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
