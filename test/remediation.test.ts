import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { gaussian, seededRandom } from './helpers/random.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';
import { startRecorder, type Recorder } from './helpers/recorder.ts';

/**
 * Supervised remediation on the real pipeline: a deployment slows checkout
 * and cart, correlate opens incidents naming the deployments, a policy
 * proposes a rollback through the GitHub stand-in for each; one is approved
 * by a signed Slack button press (a badly signed and a replayed one are
 * refused), the other through the API; the executor dispatches each workflow
 * exactly once; the incidents resolve and the executions are judged
 * effective; the audit holds the chain. Then an `auto` policy restarts
 * through the Kubernetes and Docker stand-ins on firing alerts, and the rate
 * guard stops the fourth restart in an hour.
 */
let p: TestPipeline;
let github: Recorder;
let kube: Recorder;
let docker: Recorder;
let slack: Receiver;
const MIN = 60_000;
const SIGNING_SECRET = 'slack-signing-secret-for-tests';
const TOKEN = `ghp_${randomBytes(12).toString('hex')}`;

beforeAll(async () => {
  [github, kube, docker, slack] = await Promise.all([startRecorder(), startRecorder(), startRecorder(), startReceiver()]);
  github.respond({ status: 204 });
  docker.respond({ status: 204 });
  p = await startTestPipeline('remediation', {
    processors: ['sink', 'rollup', 'detect', 'correlate', 'remediate', 'execute', 'notify'],
    env: {
      AUTOPILOT_SECRET_KEY: randomBytes(32).toString('base64'),
      NOTIFY_ALLOW_LOOPBACK: 'true',
      // The incidents resolve 30 s after their last signal (15 minutes by default), so the test sees the verdict.
      CORRELATE_QUIET_MINUTES: '0.5',
      CORRELATE_SWEEP_SECONDS: '1',
      REMEDIATE_REFRESH_SECONDS: '0.5',
      REMEDIATE_SWEEP_SECONDS: '1',
      EXECUTE_REFRESH_SECONDS: '0.5',
    },
  });
}, 180_000);

afterAll(async () => {
  await p?.stop();
  await Promise.all([github?.close(), kube?.close(), docker?.close(), slack?.close()]);
});

const api = async (method: string, path: string, body?: unknown, key = p.keys.a) => {
  const res = await p.app.request(path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, any> };
};

/** A Slack interactivity request as Slack sends it: form-encoded payload, v0 signature over timestamp and body. */
function slackRequest(proposalId: string, o: { user?: string; action?: string; at?: number; secret?: string } = {}) {
  const payload = {
    type: 'block_actions',
    user: { id: o.user ?? 'U123', username: 'alice' },
    actions: [{ action_id: o.action ?? 'approve_proposal', value: proposalId, type: 'button' }],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const timestamp = String(Math.floor((o.at ?? Date.now()) / 1000));
  const signature = `v0=${createHmac('sha256', o.secret ?? SIGNING_SECRET)
    .update(`v0:${timestamp}:${body}`)
    .digest('hex')}`;
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature } };
}
const postSlack = (tenant: string, r: ReturnType<typeof slackRequest>) =>
  p.app.request(`/slack/interactions/${tenant}`, { method: 'POST', body: r.body, headers: r.headers });

async function playScenario(service: string, T: number, previous: string, version: string) {
  const r = seededRandom(service.length);
  const point = (at: number, value: number) => ({ timestamp: at, metric_name: 'http_request_duration_ms', value, labels: { service } });
  expect((await p.post('/v1/deployments', { timestamp: T - 60 * MIN, service, version: previous, status: 'succeeded', metadata: {} })).status).toBe(202);
  expect(
    (
      await p.post(
        '/v1/metrics',
        Array.from({ length: 180 }, (_, i) => point(T - 30 * MIN + i * 10_000, 100 + 5 * gaussian(r))),
      )
    ).status,
  ).toBe(202);
  expect((await p.post('/v1/deployments', { timestamp: T, service, version, status: 'succeeded', metadata: { commit: 'abc' } })).status).toBe(202);
  expect(
    (
      await p.post(
        '/v1/metrics',
        Array.from({ length: 8 }, (_, i) => point(T + (i + 1) * 10_000, 1500 + 50 * gaussian(r))),
      )
    ).status,
  ).toBe(202);
}

const proposalsOf = async (service: string) => (await api('GET', `/v1/proposals?service=${service}`)).body.items as Record<string, any>[];

describe('supervised remediation', () => {
  it('proposes a rollback for a deployment-caused incident; approved by Slack and by the API, each dispatched once, judged effective, audited', {
    timeout: 240_000,
  }, async () => {
    const slackTarget = await api('POST', '/v1/notification-targets', { name: 'ops', kind: 'slack', url: slack.url });
    expect(slackTarget.status, JSON.stringify(slackTarget.body)).toBe(201);
    const action = await api('POST', '/v1/actions', {
      name: 'rollback',
      kind: 'github_workflow',
      risk: 'medium',
      api_url: github.url,
      repo: 'acme/shop',
      workflow: 'rollback.yml',
      ref: 'main',
      inputs: { service: '{{service}}', version: '{{previous_version}}', bad_version: '{{suspect_version}}' },
      token: TOKEN,
    });
    expect(action.status, JSON.stringify(action.body)).toBe(201);
    expect(JSON.stringify(action.body)).not.toContain(TOKEN);
    const settings = await api('PUT', '/v1/remediation-settings', {
      approvers: ['alice', 'slack:U123'],
      slack_signing_secret: SIGNING_SECRET,
      slack_target_id: slackTarget.body.id,
    });
    expect(settings.status, JSON.stringify(settings.body)).toBe(200);
    const policy = await api('POST', '/v1/remediation-policies', {
      name: 'roll back a suspect deployment',
      on: 'incident',
      match: { services: ['checkout', 'cart'], suspect_deployment: true },
      action_id: action.body.id,
      mode: 'approve',
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(201);

    // The latency jump is stamped from now on (the detector raises, then reports it sustained, then a level shift: signals
    // up to ~50 s ahead), so the incidents are still open when the rollbacks run and resolve ~30 s after their last signal.
    const T = Date.now() - 10_000;
    await playScenario('checkout', T, 'v2.3.9', 'v2.4.0');
    await playScenario('cart', T, 'v7.0.0', 'v7.1.0');

    const [checkout] = await eventually(
      () => proposalsOf('checkout'),
      (l) => l.length > 0,
      90_000,
    );
    const [cart] = await eventually(
      () => proposalsOf('cart'),
      (l) => l.length > 0,
      90_000,
    );
    expect(checkout).toMatchObject({
      status: 'proposed',
      mode: 'approve',
      action_kind: 'github_workflow',
      variables: { service: 'checkout', suspect_version: 'v2.4.0', previous_version: 'v2.3.9' },
    });

    // Slack got the proposal with Approve and Reject buttons carrying its id.
    const message = await eventually(
      async () => slack.bodies.map((b) => JSON.stringify(b)).find((b) => b.includes(checkout!.proposal_id) && b.includes('approve_proposal')),
      (m) => m !== undefined,
      30_000,
    );
    expect(message).toContain('reject_proposal');

    // Slack: a bad signature, a stale timestamp, then the real press, then its replay.
    expect((await postSlack(p.tenants.a, slackRequest(checkout!.proposal_id, { secret: 'wrong' }))).status).toBe(401);
    expect((await postSlack(p.tenants.a, slackRequest(checkout!.proposal_id, { at: Date.now() - 10 * MIN }))).status).toBe(401);
    const press = slackRequest(checkout!.proposal_id);
    expect((await postSlack(p.tenants.a, press)).status).toBe(200);
    expect((await postSlack(p.tenants.a, press)).status).toBe(401);
    // The API: an approver not on the list is refused, alice is not.
    expect((await api('POST', `/v1/proposals/${cart!.proposal_id}/approve`, { approver: 'mallory' })).status).toBe(403);
    const approved = await api('POST', `/v1/proposals/${cart!.proposal_id}/approve`, { approver: 'alice', comment: 'roll it back' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect((await api('POST', `/v1/proposals/${cart!.proposal_id}/approve`, { approver: 'alice' })).status).toBe(409);

    // Exactly one dispatch per proposal, with the previous version as the input, the token, and the proposal as idempotency key.
    await eventually(
      async () => github.requests.length,
      (n) => n >= 2,
      30_000,
    );
    const dispatches = github.requests.map((r) => ({
      path: r.path,
      auth: r.headers.authorization,
      key: r.headers['idempotency-key'],
      body: JSON.parse(r.body),
    }));
    expect(dispatches.map((d) => d.body.inputs.service).sort()).toEqual(['cart', 'checkout']);
    const toCheckout = dispatches.find((d) => d.body.inputs.service === 'checkout')!;
    expect(toCheckout).toMatchObject({
      path: '/repos/acme/shop/actions/workflows/rollback.yml/dispatches',
      auth: `Bearer ${TOKEN}`,
      key: checkout!.proposal_id,
      body: { ref: 'main', inputs: { version: 'v2.3.9', bad_version: 'v2.4.0' } },
    });

    // The incidents resolve within the window: both executions are effective.
    for (const id of [checkout!.proposal_id, cart!.proposal_id]) {
      const done = await eventually(
        async () => (await api('GET', `/v1/proposals/${id}`)).body,
        (b) => b.status === 'effective',
        120_000,
      );
      expect(done.execution).toMatchObject({ status_code: 204 });
    }
    expect(github.requests).toHaveLength(2);

    // The audit: the whole chain of the Slack-approved one, who and when.
    const audit = await eventually(
      async () => ((await api('GET', `/v1/audit?subject_id=${checkout!.proposal_id}`)).body.items as Record<string, any>[]).sort((a, b) => a.at - b.at),
      (l) => l.length >= 5,
      30_000,
    );
    expect(audit.map((e) => [e.event, e.actor])).toEqual([
      ['proposed', `policy:${policy.body.id}`],
      ['approved', 'slack:U123'],
      ['executing', 'executor'],
      ['succeeded', 'executor'],
      ['effective', 'system'],
    ]);
    expect(JSON.stringify(audit)).not.toContain(TOKEN);
    // Another tenant sees none of it.
    expect((await api('GET', `/v1/proposals/${cart!.proposal_id}`, undefined, p.keys.b)).status).toBe(404);
    expect((await api('GET', '/v1/audit', undefined, p.keys.b)).body.items).toEqual([]);
  });

  it('an auto policy restarts through Kubernetes and Docker on firing alerts; the rate guard stops the fourth restart in an hour', {
    timeout: 120_000,
  }, async () => {
    const k8s = await api('POST', '/v1/actions', {
      name: 'restart deployment',
      kind: 'kubernetes',
      risk: 'low',
      api_url: kube.url,
      namespace: 'prod',
      deployment: '{{service}}',
      operation: 'restart',
      token: 'kube-token',
    });
    const dock = await api('POST', '/v1/actions', { name: 'restart container', kind: 'docker', risk: 'low', api_url: docker.url, container: '{{service}}-1' });
    expect([k8s.status, dock.status]).toEqual([201, 201]);
    for (const [name, action, alert] of [
      ['restart crashing pods', k8s.body.id, 'PodCrashLooping'],
      ['restart a dead container', dock.body.id, 'ContainerDown'],
    ]) {
      const res = await api('POST', '/v1/remediation-policies', { name, on: 'alert', match: { alert_name: alert }, action_id: action, mode: 'auto' });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    // A saved policy applies within REMEDIATE_REFRESH_SECONDS (as an alert rule does): an alert handled sooner may not see it.
    await sleep(1500);
    const alert = (name: string, service: string, i: number) => ({
      status: 'firing',
      labels: { alertname: name, service, severity: 'critical', instance: `i${i}` },
      annotations: { summary: `${name} on ${service}` },
      startsAt: new Date(Date.now() - i * 1000).toISOString(),
      fingerprint: `${name}-${service}-${i}`,
    });
    const webhook = (alerts: unknown[]) => ({ version: '4', groupKey: 'g', status: 'firing', receiver: 'autopilot', alerts });
    expect((await p.post('/v1/alertmanager', webhook([alert('PodCrashLooping', 'api', 0)]))).status).toBe(202);
    await eventually(
      async () => kube.requests.length,
      (n) => n === 1,
      60_000,
    );
    expect(kube.requests[0]).toMatchObject({ method: 'PATCH', path: '/apis/apps/v1/namespaces/prod/deployments/api' });
    expect(kube.requests[0]!.headers['content-type']).toBe('application/strategic-merge-patch+json');
    expect(JSON.parse(kube.requests[0]!.body).spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBeTruthy();

    // Four ContainerDown alerts for web, one after another: three restarts, the fourth blocked by the guard (3 an hour).
    for (let i = 0; i < 4; i++) {
      expect((await p.post('/v1/alertmanager', webhook([alert('ContainerDown', 'web', i)]))).status).toBe(202);
      await eventually(
        async () => (await proposalsOf('web')).filter((x) => ['succeeded', 'blocked', 'effective', 'ineffective'].includes(x.status)).length,
        (n) => n === i + 1,
        60_000,
      );
    }
    const web = await proposalsOf('web');
    expect(web.map((x) => x.status).sort()).toEqual(['blocked', 'succeeded', 'succeeded', 'succeeded']);
    expect(web.find((x) => x.status === 'blocked')!.reason).toMatch(/^rate: 3 executions on web in the last hour/);
    expect(docker.requests.map((r) => `${r.method} ${r.path}`)).toEqual(Array(3).fill('POST /containers/web-1/restart?t=10'));
    expect(web.every((x) => x.decided_by?.startsWith('policy:'))).toBe(true);
  });
});
