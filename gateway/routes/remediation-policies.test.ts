import { describe, expect, it } from 'vitest';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { testSecretBox } from '../../test/helpers/remediation.ts';
import { throwawayRedisPerFile } from '../../test/helpers/redis-server.ts';
import { slackSecretContext } from './remediation-policies.ts';

/**
 * /v1/remediation-policies and /v1/remediation-settings: a policy is checked
 * against its action when saved (exists, auto only when low risk, every
 * placeholder has a value), settings keep the Slack signing secret sealed
 * and write-only and point at a Slack target; every change is audited;
 * tenants apart. Before these routes existed every request here was a 404.
 */
const redis = throwawayRedisPerFile();
const restart = {
  name: 'restart',
  kind: 'kubernetes',
  risk: 'low',
  api_url: 'https://k8s.example.com',
  namespace: '{{namespace}}',
  deployment: '{{service}}',
  operation: 'restart',
  token: 'k8s-token-123',
};
const rollback = {
  name: 'rollback',
  kind: 'github_workflow',
  risk: 'high',
  repo: 'acme/shop',
  workflow: 'rollback.yml',
  inputs: { version: '{{previous_version}}' },
  token: 'ghp_s3cretToken',
};
type Shown = Record<string, unknown> & { id: string };

async function withActions(o: { box?: boolean } = {}) {
  const box = o.box === false ? undefined : testSecretBox();
  const t = routeTestApp({ redis: redis().client(), secretBox: box });
  const ids: Record<string, string> = {};
  for (const a of [restart, rollback]) ids[a.name] = ((await (await t.a('POST', '/v1/actions', a)).json()) as Shown).id;
  return { ...t, box, ids };
}

describe('remediation policies', () => {
  it('saves a policy whose action exists and fits, with its defaults, audited', async () => {
    const t = await withActions();
    const res = await t.a('POST', '/v1/remediation-policies', {
      name: 'roll back',
      action_id: t.ids.rollback,
      mode: 'approve',
      match: { suspect_deployment: true },
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as Shown;
    expect(created).toMatchObject({
      name: 'roll back',
      action_id: t.ids.rollback,
      mode: 'approve',
      enabled: true,
      on: 'incident',
      max_per_service_per_hour: 3,
      ttl: '30m',
    });
    expect(await (await t.a('GET', `/v1/remediation-policies/${created.id}`)).json()).toEqual(created);
    expect(t.publisher.records('audit').filter((e) => e.subject_kind === 'policy')).toEqual([
      expect.objectContaining({ event: 'created', actor: 'api', subject_id: created.id, details: JSON.stringify(created) }),
    ]);
  });

  it('refuses a policy whose action does not exist (or is another tenant’s), naming it', async () => {
    const t = await withActions();
    for (const [send, id] of [
      [t.a, 'no-such-action'],
      [t.b, t.ids.rollback!],
    ] as const) {
      const error = await expectError(await send('POST', '/v1/remediation-policies', { name: 'p', action_id: id, mode: 'approve' }), 400, 'bad_request');
      expect(error.message).toContain(`no action ${id}`);
      expect(error.details).toEqual([{ path: 'action_id', message: expect.stringContaining(id) }]);
    }
    expect([...(await t.memory.policies.list(TEST_TENANTS.a)), ...(await t.memory.policies.list(TEST_TENANTS.b))]).toEqual([]);
  });

  it('takes auto only for a low-risk action, and says why when not', async () => {
    const t = await withActions();
    const error = await expectError(await t.a('POST', '/v1/remediation-policies', { name: 'p', action_id: t.ids.rollback, mode: 'auto' }), 400, 'bad_request');
    expect(error.message).toMatch(/auto.*low-risk.*"rollback" is high risk/);
    const ok = await t.a('POST', '/v1/remediation-policies', { name: 'p', action_id: t.ids.restart, mode: 'auto', variables: { namespace: 'shop' } });
    expect(ok.status).toBe(201);
    expect(await t.memory.policies.list(TEST_TENANTS.a)).toHaveLength(1);
  });

  it("lists the action's placeholders that nothing fills, and takes them once the policy's variables do", async () => {
    const t = await withActions();
    const policy = { name: 'p', action_id: t.ids.restart, mode: 'approve' };
    const error = await expectError(await t.a('POST', '/v1/remediation-policies', policy), 400, 'bad_request');
    expect(error.message).toContain('{{namespace}}');
    expect(error.message).not.toContain('{{service}}'); // an incident fact
    expect(await t.memory.policies.list(TEST_TENANTS.a)).toEqual([]);
    const created = (await (await t.a('POST', '/v1/remediation-policies', { ...policy, variables: { namespace: 'shop' } })).json()) as Shown;

    // The same checks on PUT: nothing changes when refused.
    await expectError(await t.a('PUT', `/v1/remediation-policies/${created.id}`, { ...policy, variables: {} }), 400, 'bad_request');
    expect((await t.memory.policies.get(TEST_TENANTS.a, created.id))!.definition.variables).toEqual({ namespace: 'shop' });
  });

  it("keeps tenants apart: another tenant's policy is not found, listed, changed or deleted", async () => {
    const t = await withActions();
    const { id } = (await (await t.a('POST', '/v1/remediation-policies', { name: 'p', action_id: t.ids.rollback, mode: 'approve' })).json()) as Shown;
    expect(await (await t.b('GET', '/v1/remediation-policies')).json()).toEqual({ items: [] });
    await expectError(await t.b('GET', `/v1/remediation-policies/${id}`), 404, 'not_found');
    await expectError(await t.b('DELETE', `/v1/remediation-policies/${id}`), 404, 'not_found');
    expect(await t.memory.policies.get(TEST_TENANTS.a, id)).toBeDefined();
  });
});

describe('remediation settings', () => {
  const SECRET = '8f14e45fceea167a5a36dedd4bea2543';

  it('are empty until saved', async () => {
    const t = await withActions();
    expect(await (await t.a('GET', '/v1/remediation-settings')).json()).toEqual({ approvers: [], updated_at: null });
  });

  it('seal the Slack signing secret for this tenant, never show it, and keep it when a PUT leaves it out', async () => {
    const t = await withActions();
    const target = (await (
      await t.a('POST', '/v1/notification-targets', { name: 'ops', kind: 'slack', url: 'https://hooks.slack.com/services/T0/B0/x' })
    ).json()) as Shown;
    const res = await t.a('PUT', '/v1/remediation-settings', {
      approvers: ['alice', 'slack:U0ALICE'],
      slack_signing_secret: SECRET,
      slack_target_id: target.id,
    });
    expect(res.status).toBe(200);
    const shown = await res.json();
    expect(shown).toEqual({ approvers: ['alice', 'slack:U0ALICE'], slack_signing_secret: '***', slack_target_id: target.id, updated_at: expect.any(Number) });
    expect(await (await t.a('GET', '/v1/remediation-settings')).json()).toEqual(shown);

    const sealed = (await t.memory.remediationSettings.get(TEST_TENANTS.a, 'settings'))!.definition.sealed_slack_signing_secret!;
    expect(t.box!.open(sealed, slackSecretContext(TEST_TENANTS.a))).toBe(SECRET);
    expect(() => t.box!.open(sealed, slackSecretContext(TEST_TENANTS.b))).toThrow(); // another tenant's row would not open it

    expect((await t.a('PUT', '/v1/remediation-settings', { approvers: ['bob'] })).status).toBe(200);
    expect((await t.memory.remediationSettings.get(TEST_TENANTS.a, 'settings'))!.definition).toEqual({
      approvers: ['bob'],
      sealed_slack_signing_secret: sealed,
    });
    expect(await t.memory.remediationSettings.list(TEST_TENANTS.a)).toHaveLength(1); // one document per tenant

    const everything = JSON.stringify(t.publisher.published);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(sealed);
    expect(
      t.publisher
        .records('audit')
        .filter((e) => e.subject_kind === 'settings')
        .map((e) => e.event),
    ).toEqual(['created', 'updated']);
    expect(await (await t.b('GET', '/v1/remediation-settings')).json()).toEqual({ approvers: [], updated_at: null });
  });

  it.each([
    ['an unknown target', () => 'no-such-target', 'no notification target'],
    [
      'a webhook target',
      async (t: Awaited<ReturnType<typeof withActions>>) =>
        ((await (await t.a('POST', '/v1/notification-targets', { name: 'w', kind: 'webhook', url: 'https://example.com/h' })).json()) as Shown).id,
      'not a Slack one',
    ],
    [
      "another tenant's Slack target",
      async (t: Awaited<ReturnType<typeof withActions>>) =>
        ((await (await t.b('POST', '/v1/notification-targets', { name: 's', kind: 'slack', url: 'https://hooks.slack.com/services/T/B/y' })).json()) as Shown)
          .id,
      'no notification target',
    ],
  ])('refuse %s as slack_target_id, saving nothing', async (_what, target, message) => {
    const t = await withActions();
    const error = await expectError(await t.a('PUT', '/v1/remediation-settings', { slack_target_id: await target(t) }), 400, 'bad_request');
    expect(error.message).toContain(message);
    expect(await t.memory.remediationSettings.list(TEST_TENANTS.a)).toEqual([]);
  });

  it('refuse a signing secret with a clear 400 when the server has no AUTOPILOT_SECRET_KEY', async () => {
    const t = routeTestApp({ redis: redis().client() });
    const error = await expectError(await t.a('PUT', '/v1/remediation-settings', { slack_signing_secret: SECRET }), 400, 'bad_request');
    expect(error.message).toContain('AUTOPILOT_SECRET_KEY');
    expect(await t.memory.remediationSettings.list(TEST_TENANTS.a)).toEqual([]);
    expect(t.publisher.published).toEqual([]);
  });
});
