import { createHmac, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SecretBox } from '../../lib/secrets.ts';
import { type Action, parseAction } from '../../tenant-config/actions.ts';
import type { GuardedInit, RequestFn } from '../../tenant-config/guarded-http.ts';
import type { LookupAll } from '../../tenant-config/url-guard.ts';
import { answer, closeScriptedServers, scriptedServer } from '../../test/helpers/scripted-server.ts';
import { type ActionRun, runAction } from './run-action.ts';

/*
 * Every test here fails on the tree before this change: processors/execute/
 * did not exist, so nothing ran an action. Where a test guards one line of
 * run-action (the scrubbing, the encoding, the guard before the send), its
 * comment says what it would see without that line.
 */

const TENANT = 'acme';
const box = SecretBox.fromKey(randomBytes(32));
const guard = { allowLoopback: true };
/** What a proposal for a deployment-caused incident fills placeholders with. */
const vars: Record<string, string> = {
  tenant: TENANT,
  service: 'checkout',
  incident_id: 'inc-42',
  severity: 'high',
  suspect_version: '1.4.2',
  previous_version: '1.4.1',
  proposal_id: 'prop-7',
};
/** Shapes lib/redact.ts does not recognise, so only run-action's own scrubbing keeps them out. */
const TOKEN = 'tok-plain-value-7';
const SIGNING_SECRET = 'whsec-plain-value-9';

afterEach(closeScriptedServers);

const stored = (body: Record<string, unknown>): Action => parseAction({ name: 'act', risk: 'low', ...body }, { tenant: TENANT, box, allowLoopback: true });

const run = (
  action: Action,
  o: { vars?: Record<string, string>; signal?: AbortSignal; http?: RequestFn; lookup?: LookupAll; box?: SecretBox | undefined } = {},
) =>
  runAction(action, o.vars ?? vars, {
    tenant: TENANT,
    box: 'box' in o ? o.box : box,
    guard: o.lookup ? { ...guard, lookup: o.lookup } : guard,
    signal: o.signal ?? AbortSignal.timeout(10_000),
    idempotencyKey: vars.proposal_id!,
    ...(o.http ? { http: o.http } : {}),
  });

/** No secret, in any form, anywhere in what the audit will keep. */
function expectNoSecrets(r: ActionRun) {
  const text = JSON.stringify(r);
  for (const secret of [TOKEN, SIGNING_SECRET]) expect(text).not.toContain(secret);
}

describe('runAction: webhook', () => {
  it('POSTs the proposal and the templated body, signed so that the receiver can verify it with the secret', async () => {
    const receiver = await scriptedServer(answer(202, { received: true }));
    const action = stored({
      kind: 'webhook',
      url: `${receiver.base}/hooks/remediate`,
      headers: { 'X-Team': 'payments' },
      body: { rollback_to: '{{previous_version}}', note: '{{service}} broke in {{suspect_version}}' },
      signing_secret: SIGNING_SECRET,
    });
    const r = await run(action);

    expect(r).toMatchObject({ ok: true, status_code: 202, error: null, response_excerpt: '{"received":true}' });
    expect(receiver.requests).toHaveLength(1);
    const got = receiver.requests[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/hooks/remediate');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-team']).toBe('payments');
    expect(got.headers['idempotency-key']).toBe('prop-7');
    expect(JSON.parse(got.body)).toEqual({
      proposal_id: 'prop-7',
      tenant: 'acme',
      service: 'checkout',
      incident_id: 'inc-42',
      action: 'act',
      rollback_to: '1.4.1',
      note: 'checkout broke in 1.4.2',
    });
    // The receiver's side of the contract: HMAC-SHA256 over "<timestamp>.<body as received>".
    const timestamp = got.headers['x-autopilot-timestamp'] as string;
    expect(timestamp).toMatch(/^\d{10}$/);
    const expected = `sha256=${createHmac('sha256', SIGNING_SECRET).update(`${timestamp}.${got.body}`).digest('hex')}`;
    expect(got.headers['x-autopilot-signature']).toBe(expected);
    expect(r.request).toBe(`POST ${receiver.base}/hooks/remediate\n${got.body}`);
    expectNoSecrets(r);
  });

  it('sends no signature without a signing secret, and keeps a credential header out of the excerpt', async () => {
    // This receiver echoes what it was sent, as debugging endpoints do.
    const receiver = await scriptedServer((res) => answer(200, `you sent X-Api-Key ${receiver.requests[0]!.headers['x-api-key']}`)(res));
    const r = await run(stored({ kind: 'webhook', url: `${receiver.base}/h`, headers: { 'X-Api-Key': 'k-plain-value-3' } }));
    expect(r.ok).toBe(true);
    expect(receiver.requests[0]!.headers['x-autopilot-signature']).toBeUndefined();
    expect(receiver.requests[0]!.headers['x-api-key']).toBe('k-plain-value-3');
    // Without the credential-header rule the excerpt would read "you sent X-Api-Key k-plain-value-3".
    expect(r.response_excerpt).toBe('you sent X-Api-Key ***');
  });

  it('reports a 500 with the answer, its excerpt cut to 2 KiB on a character boundary', async () => {
    const receiver = await scriptedServer(answer(500, `überlastet ${'€'.repeat(5000)}`));
    const r = await run(stored({ kind: 'webhook', url: `${receiver.base}/h` }));
    expect(r).toMatchObject({ ok: false, status_code: 500 });
    expect(r.error).toMatch(/^HTTP 500: überlastet €€€/);
    expect(Buffer.byteLength(r.response_excerpt)).toBeLessThanOrEqual(2048);
    expect(Buffer.byteLength(r.response_excerpt)).toBeGreaterThan(2040);
    expect(r.response_excerpt).not.toContain('\uFFFD'); // no half a euro sign at the end
  });

  it('does not follow a redirect: the 3xx is the answer', async () => {
    const receiver = await scriptedServer(answer(302, '', { location: 'http://169.254.169.254/latest/meta-data/' }));
    const r = await run(stored({ kind: 'webhook', url: `${receiver.base}/h` }));
    expect(r).toMatchObject({ ok: false, status_code: 302, error: 'HTTP 302 (redirects are not followed)' });
    expect(receiver.requests).toHaveLength(1);
  });
});

describe('runAction: github_workflow', () => {
  const rollback = (api: string) =>
    stored({
      kind: 'github_workflow',
      api_url: api,
      repo: 'acme/shop',
      workflow: 'rollback.yml',
      ref: 'release/{{service}}',
      inputs: { service: '{{service}}', to_version: '{{previous_version}}', bad_version: '{{suspect_version}}' },
      token: TOKEN,
    });

  it('dispatches the workflow with ref and templated inputs; 204 is done', async () => {
    const github = await scriptedServer(answer(204));
    const r = await run(rollback(github.base));

    expect(r).toMatchObject({ ok: true, status_code: 204, error: null, response_excerpt: '' });
    expect(github.requests).toHaveLength(1);
    const got = github.requests[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/repos/acme/shop/actions/workflows/rollback.yml/dispatches');
    expect(got.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(got.headers.accept).toBe('application/vnd.github+json');
    expect(got.headers['x-github-api-version']).toBe('2022-11-28');
    expect(got.headers['user-agent']).toBe('autopilot-execute');
    expect(got.headers['idempotency-key']).toBe('prop-7');
    expect(JSON.parse(got.body)).toEqual({ ref: 'release/checkout', inputs: { service: 'checkout', to_version: '1.4.1', bad_version: '1.4.2' } });
    expectNoSecrets(r);
  });

  it('reports a 401 with GitHub message, and no token even when the answer quotes it', async () => {
    const github = await scriptedServer(
      answer(401, { message: `Bad credentials (${TOKEN})`, documentation_url: 'https://docs.github.com/rest', echo: TOKEN, status: '401' }),
    );
    const r = await run(rollback(github.base));
    expect(r).toMatchObject({ ok: false, status_code: 401, error: 'HTTP 401: Bad credentials (***)' });
    // Without the scrubbing both the error and the excerpt would hold the token (lib/redact.ts knows no such shape).
    expect(r.response_excerpt).toContain('"echo":"***"');
    expectNoSecrets(r);
  });

  it('reports a 404 (no such workflow, or a token that may not see the repository)', async () => {
    const github = await scriptedServer(answer(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/actions/workflows' }));
    const r = await run(rollback(github.base));
    expect(r).toMatchObject({ ok: false, status_code: 404, error: 'HTTP 404: Not Found' });
  });

  it('counts only 204 as a dispatch: a 200 from something else is not done', async () => {
    const notGithub = await scriptedServer(answer(200, '<html>login</html>'));
    const r = await run(rollback(notGithub.base));
    expect(r).toMatchObject({ ok: false, status_code: 200, error: 'HTTP 200, expected 204: <html>login</html>' });
  });
});

describe('runAction: kubernetes', () => {
  it('restarts as kubectl rollout restart does: a strategic merge patch of the restartedAt annotation', async () => {
    const apiServer = await scriptedServer(answer(200, { kind: 'Deployment', metadata: { name: 'checkout' } }));
    const before = Date.now();
    const r = await run(
      stored({ kind: 'kubernetes', api_url: apiServer.base, namespace: 'shop-{{severity}}', deployment: '{{service}}', operation: 'restart', token: TOKEN }),
    );

    expect(r).toMatchObject({ ok: true, status_code: 200, error: null });
    const got = apiServer.requests[0]!;
    expect(got.method).toBe('PATCH');
    expect(got.url).toBe('/apis/apps/v1/namespaces/shop-high/deployments/checkout');
    expect(got.headers['content-type']).toBe('application/strategic-merge-patch+json');
    expect(got.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(got.headers['idempotency-key']).toBe('prop-7');
    const restartedAt = JSON.parse(got.body).spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'] as string;
    expect(restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/); // RFC 3339 in seconds, as kubectl writes it
    expect(Date.parse(restartedAt)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Object.keys(JSON.parse(got.body))).toEqual(['spec']); // nothing else of the deployment is touched
    expectNoSecrets(r);
  });

  it('scales through the scale subresource with a merge patch, and sends no Authorization without a token', async () => {
    const apiServer = await scriptedServer(answer(200, { kind: 'Scale', spec: { replicas: 6 } }));
    const r = await run(
      stored({ kind: 'kubernetes', api_url: `${apiServer.base}/`, namespace: 'shop', deployment: 'checkout', operation: 'scale', replicas: 6 }),
    );
    expect(r.ok).toBe(true);
    const got = apiServer.requests[0]!;
    expect(got.method).toBe('PATCH');
    expect(got.url).toBe('/apis/apps/v1/namespaces/shop/deployments/checkout/scale');
    expect(got.headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(got.body)).toEqual({ spec: { replicas: 6 } });
    expect(got.headers.authorization).toBeUndefined();
  });

  it("reports the API server's Status message on a 404", async () => {
    const apiServer = await scriptedServer(
      answer(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'deployments.apps "checkout" not found', reason: 'NotFound', code: 404 }),
    );
    const r = await run(stored({ kind: 'kubernetes', api_url: apiServer.base, namespace: 'shop', deployment: 'checkout', operation: 'restart' }));
    expect(r).toMatchObject({ ok: false, status_code: 404, error: 'HTTP 404: deployments.apps "checkout" not found' });
  });
});

describe('runAction: docker', () => {
  it('restarts the container with its stop timeout; 204 is done', async () => {
    const engine = await scriptedServer(answer(204));
    const r = await run(stored({ kind: 'docker', api_url: `${engine.base}/v1.47`, container: '{{service}}-1', stop_timeout: 20 }));
    expect(r).toMatchObject({ ok: true, status_code: 204, error: null });
    expect(engine.requests[0]).toMatchObject({ method: 'POST', url: '/v1.47/containers/checkout-1/restart?t=20', body: '' });
    expect(engine.requests[0]!.headers['idempotency-key']).toBe('prop-7');
    expect(r.request).toBe(`POST ${engine.base}/v1.47/containers/checkout-1/restart?t=20`);
  });

  it('reports no such container on a 404', async () => {
    const engine = await scriptedServer(answer(404, { message: 'No such container: checkout-9' }));
    const r = await run(stored({ kind: 'docker', api_url: engine.base, container: 'checkout-9' }));
    expect(r).toMatchObject({ ok: false, status_code: 404, error: 'HTTP 404: No such container: checkout-9' });
    expect(engine.requests[0]!.url).toBe('/containers/checkout-9/restart?t=10');
  });

  it('keeps a hostile value in one path segment', async () => {
    const engine = await scriptedServer(answer(204));
    const r = await run(stored({ kind: 'docker', api_url: engine.base, container: '{{service}}' }), {
      vars: { ...vars, service: 'x/../../images/prune?force=1#' },
    });
    expect(r.ok).toBe(true);
    // Without encodeURIComponent this would be POST /images/prune?force=1 (the dot segments resolved by URL parsing).
    expect(engine.requests[0]!.url).toBe('/containers/x%2F..%2F..%2Fimages%2Fprune%3Fforce%3D1%23/restart?t=10');
  });

  it('refuses a dot segment as a name, without a request', async () => {
    const engine = await scriptedServer(answer(204));
    const r = await run(stored({ kind: 'kubernetes', api_url: engine.base, namespace: '{{service}}', deployment: 'x', operation: 'restart' }), {
      vars: { ...vars, service: '..' },
    });
    expect(r).toMatchObject({ ok: false, status_code: null, request: '', error: 'not sent: ".." cannot be a name in a URL path' });
    expect(engine.requests).toHaveLength(0);
  });
});

describe('runAction: what stops a call', () => {
  /** An HTTP client that records instead of sending. */
  const recording = () => {
    const calls: { url: string; init: GuardedInit }[] = [];
    const http: RequestFn = async (url, init) => {
      calls.push({ url, init });
      return { status: 204, headers: { get: () => null }, text: async () => '' };
    };
    return { calls, http };
  };

  it('refuses a host that now resolves to the cloud metadata address, before any request', async () => {
    // Saved while hooks.example.test looked fine; its DNS answer changed since.
    const action = stored({ kind: 'webhook', url: 'http://hooks.example.test/remediate', signing_secret: SIGNING_SECRET });
    const { calls, http } = recording();
    const lookup: LookupAll = async () => [{ address: '169.254.169.254', family: 4 }];
    const r = await run(action, { http, lookup });
    expect(r).toMatchObject({ ok: false, status_code: null });
    expect(r.error).toMatch(/^not sent: target host hooks\.example\.test resolves to 169\.254\.169\.254, a cloud metadata address/);
    expect(r.request).toMatch(/^POST http:\/\/hooks\.example\.test\/remediate\n/);
    // Without the check the injected client would have been called once.
    expect(calls).toHaveLength(0);
    expectNoSecrets(r);
  });

  it('refuses a stored metadata IP literal (a row that skipped parseAction)', async () => {
    const { calls, http } = recording();
    const action: Action = { kind: 'docker', name: 'old', risk: 'low', api_url: 'http://169.254.169.254', container: 'web', stop_timeout: 10, sealed: {} };
    const r = await run(action, { http });
    expect(r.error).toMatch(/cloud metadata address/);
    expect(calls).toHaveLength(0);
  });

  it('gives every call the Idempotency-Key, whatever the kind', async () => {
    const { calls, http } = recording();
    const api = 'http://127.0.0.1:9';
    await run(stored({ kind: 'webhook', url: `${api}/h` }), { http });
    await run(stored({ kind: 'github_workflow', api_url: api, repo: 'a/b', workflow: 'w.yml', token: TOKEN }), { http });
    await run(stored({ kind: 'kubernetes', api_url: api, namespace: 'n', deployment: 'd', operation: 'restart' }), { http });
    await run(stored({ kind: 'docker', api_url: api, container: 'c' }), { http });
    expect(calls.map((c) => c.init.headers['idempotency-key'])).toEqual(['prop-7', 'prop-7', 'prop-7', 'prop-7']);
    expect(calls.every((c) => c.init.redirect === 'manual')).toBe(true);
  });

  it('ends a call that gets no answer when the signal fires', async () => {
    const silent = await scriptedServer(() => {}); // never answers
    const r = await run(stored({ kind: 'webhook', url: `${silent.base}/h` }), { signal: AbortSignal.timeout(200) });
    expect(r).toMatchObject({ ok: false, status_code: null });
    expect(r.error).toMatch(/^no answer: aborted \(.*timeout/);
    expect(silent.requests).toHaveLength(1);
  });

  it('reports a refused connection as no answer', async () => {
    const closed = await scriptedServer(answer(204));
    const port = new URL(closed.base).port;
    await closed.close();
    const r = await run(stored({ kind: 'docker', api_url: `http://127.0.0.1:${port}`, container: 'web' }));
    expect(r).toMatchObject({ ok: false, status_code: null });
    expect(r.error).toMatch(/^no answer: .*ECONNREFUSED/);
  });

  it('does not run with a placeholder that has no value', async () => {
    const { calls, http } = recording();
    const { suspect_version: _, ...withoutSuspect } = vars;
    const action = stored({ kind: 'github_workflow', repo: 'a/b', workflow: 'w.yml', inputs: { bad: '{{suspect_version}}' }, token: TOKEN });
    const r = await run(action, { http, vars: withoutSuspect });
    expect(r).toMatchObject({ ok: false, request: '', error: 'not sent: {{suspect_version}} has no value here' });
    expect(calls).toHaveLength(0);
  });

  it('does not run when the secret cannot be opened: no key, another key, another tenant', async () => {
    const { calls, http } = recording();
    const action = stored({ kind: 'github_workflow', repo: 'a/b', workflow: 'w.yml', token: TOKEN });
    expect((await run(action, { http, box: undefined })).error).toBe(
      'not sent: token is stored encrypted, and this server has no AUTOPILOT_SECRET_KEY to open it',
    );
    expect((await run(action, { http, box: SecretBox.fromKey(randomBytes(32)) })).error).toMatch(/^not sent: token: the secret does not open/);
    const elsewhere = await runAction(action, vars, { tenant: 'globex', box, guard, signal: AbortSignal.timeout(10_000), idempotencyKey: 'p', http });
    expect(elsewhere.error).toMatch(/^not sent: token: the secret does not open/);
    expect(calls).toHaveLength(0);
  });
});
