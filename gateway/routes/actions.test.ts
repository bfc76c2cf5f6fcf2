import { describe, expect, it } from 'vitest';
import { secretContext } from '../../tenant-config/actions.ts';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { testSecretBox } from '../../test/helpers/remediation.ts';
import { throwawayRedisPerFile } from '../../test/helpers/redis-server.ts';

/**
 * /v1/actions: CRUD, secrets never shown back in any form and kept when a
 * PUT leaves them out, every change audited (and undone when its audit
 * event cannot be recorded), an action a policy uses kept, tenants apart.
 * Before gateway/routes/actions.ts existed every request here was a 404.
 */
const redis = throwawayRedisPerFile();
const TOKEN = 'ghp_s3cretTokenValue';
const rollback = {
  name: 'rollback',
  kind: 'github_workflow',
  risk: 'medium',
  repo: 'acme/shop',
  workflow: 'rollback.yml',
  inputs: { version: '{{previous_version}}' },
  token: TOKEN,
};
const restart = { name: 'restart', kind: 'docker', risk: 'low', api_url: 'http://127.0.0.1:2375', container: '{{service}}' };

function app(o: { box?: boolean; loopback?: boolean } = {}) {
  const box = o.box === false ? undefined : testSecretBox();
  return { ...routeTestApp({ redis: redis().client(), secretBox: box, allowLoopbackTargets: o.loopback ?? true }), box };
}
type Shown = Record<string, unknown> & { id: string };

describe('actions', () => {
  it('seals a token, shows it as "***" only, and audits the creation without it', async () => {
    const t = app();
    const res = await t.a('POST', '/v1/actions', rollback);
    expect(res.status).toBe(201);
    const created = (await res.json()) as Shown;
    expect(created).toMatchObject({ ...rollback, token: '***', api_url: 'https://api.github.com', ref: 'main' });
    expect(created).not.toHaveProperty('sealed');

    const stored = (await t.memory.actions.get(TEST_TENANTS.a, created.id))!.definition;
    expect(t.box!.open(stored.sealed.token!, secretContext(TEST_TENANTS.a, 'token'))).toBe(TOKEN);
    const shown = [created, await (await t.a('GET', '/v1/actions')).json(), await (await t.a('GET', `/v1/actions/${created.id}`)).json()];
    expect(shown[1]).toEqual({ items: [created] });
    expect(shown[2]).toEqual(created);
    const everything = JSON.stringify([shown, t.publisher.published]);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(stored.sealed.token!); // nor the sealed form

    expect(t.publisher.records('audit')).toEqual([
      {
        event_id: expect.any(String),
        tenant: TEST_TENANTS.a,
        at: expect.any(Number),
        actor: 'api',
        event: 'created',
        subject_kind: 'action',
        subject_id: created.id,
        service: '',
        details: JSON.stringify(created),
      },
    ]);
  });

  it('keeps the stored token on a PUT that leaves it out, and replaces it with a new one', async () => {
    const t = app();
    const { id } = (await (await t.a('POST', '/v1/actions', rollback)).json()) as Shown;
    const sealed = async () => (await t.memory.actions.get(TEST_TENANTS.a, id))!.definition.sealed.token!;
    const first = await sealed();

    const { token: _, ...withoutToken } = rollback;
    const res = await t.a('PUT', `/v1/actions/${id}`, { ...withoutToken, risk: 'high' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, risk: 'high', token: '***' });
    expect(await sealed()).toBe(first);

    expect((await t.a('PUT', `/v1/actions/${id}`, { ...rollback, token: 'ghp_another' })).status).toBe(200);
    expect(t.box!.open(await sealed(), secretContext(TEST_TENANTS.a, 'token'))).toBe('ghp_another');
    expect(t.publisher.records('audit').map((e) => e.event)).toEqual(['created', 'updated', 'updated']);
    expect(JSON.stringify(t.publisher.published)).not.toMatch(/ghp_/);
  });

  it('keeps the stored token on a PUT of the action as it was shown (token "***")', async () => {
    const t = app();
    const created = (await (await t.a('POST', '/v1/actions', rollback)).json()) as Shown;
    const first = (await t.memory.actions.get(TEST_TENANTS.a, created.id))!.definition.sealed.token;
    const { id, created_at: _, updated_at: __, ...shown } = created;
    expect((await t.a('PUT', `/v1/actions/${id}`, shown)).status).toBe(200);
    expect((await t.memory.actions.get(TEST_TENANTS.a, id))!.definition.sealed.token).toBe(first);
  });

  it('refuses a secret with a clear 400 when the server has no AUTOPILOT_SECRET_KEY, and saves nothing', async () => {
    const t = app({ box: false });
    const error = await expectError(await t.a('POST', '/v1/actions', rollback), 400, 'bad_request');
    expect(error.message).toContain('AUTOPILOT_SECRET_KEY');
    expect(error.message).toContain('token');
    expect(await t.memory.actions.list(TEST_TENANTS.a)).toEqual([]);
    expect(t.publisher.published).toEqual([]);
    // An action without secrets needs no key.
    expect((await t.a('POST', '/v1/actions', restart)).status).toBe(201);
  });

  it.each([
    ['a loopback URL when loopback is not allowed', { ...restart }, false],
    ['a cloud metadata address', { ...restart, api_url: 'http://169.254.169.254/latest' }, true],
    ['an unknown kind', { ...restart, kind: 'ssh' }, true],
    [
      'scale without replicas',
      { name: 'scale', kind: 'kubernetes', risk: 'low', api_url: 'https://k8s.example.com', namespace: 'shop', deployment: 'x', operation: 'scale' },
      true,
    ],
  ])('refuses %s with 400 and saves nothing', async (_what, body, loopback) => {
    const t = app({ loopback });
    await expectError(await t.a('POST', '/v1/actions', body), 400, 'bad_request');
    expect(await t.memory.actions.list(TEST_TENANTS.a)).toEqual([]);
    expect(t.publisher.published).toEqual([]);
  });

  it('refuses to delete an action a policy uses, naming the policy; deletes it once unused, audited', async () => {
    const t = app();
    const { id } = (await (await t.a('POST', '/v1/actions', restart)).json()) as Shown;
    const policy = (await (await t.a('POST', '/v1/remediation-policies', { name: 'restart on crash', action_id: id, mode: 'auto' })).json()) as Shown;

    const error = await expectError(await t.a('DELETE', `/v1/actions/${id}`), 409, 'conflict');
    expect(error.message).toContain('restart on crash');
    expect(error.details).toEqual({ policies: [{ id: policy.id, name: 'restart on crash' }] });
    expect(await t.memory.actions.get(TEST_TENANTS.a, id)).toBeDefined();

    expect((await t.a('DELETE', `/v1/remediation-policies/${policy.id}`)).status).toBe(204);
    expect((await t.a('DELETE', `/v1/actions/${id}`)).status).toBe(204);
    await expectError(await t.a('GET', `/v1/actions/${id}`), 404, 'not_found');
    expect(t.publisher.records('audit').map((e) => `${e.subject_kind} ${e.event}`)).toEqual([
      'action created',
      'policy created',
      'policy deleted',
      'action deleted',
    ]);
  });

  it('undoes a change whose audit event Kafka did not acknowledge: 503, nothing changed', async () => {
    const t = app();
    const { id } = (await (await t.a('POST', '/v1/actions', restart)).json()) as Shown;
    const before = await t.memory.actions.get(TEST_TENANTS.a, id);
    t.publisher.setDown(true);

    await expectError(await t.a('POST', '/v1/actions', { ...restart, name: 'second' }), 503, 'unavailable');
    await expectError(await t.a('PUT', `/v1/actions/${id}`, { ...restart, risk: 'high' }), 503, 'unavailable');
    await expectError(await t.a('DELETE', `/v1/actions/${id}`), 503, 'unavailable');

    const after = await t.memory.actions.list(TEST_TENANTS.a);
    expect(after.map((d) => d.definition)).toEqual([before!.definition]);
    expect(t.publisher.records('audit')).toHaveLength(1);
  });

  it('answers 503 and saves nothing without Redis (no proposals, no audit)', async () => {
    const t = routeTestApp({ secretBox: testSecretBox() });
    await expectError(await t.a('POST', '/v1/actions', restart), 503, 'unavailable');
    expect(await t.memory.actions.list(TEST_TENANTS.a)).toEqual([]);
  });

  it("keeps tenants apart: another tenant's action is not found, listed, changed or deleted", async () => {
    const t = app();
    const { id } = (await (await t.a('POST', '/v1/actions', rollback)).json()) as Shown;
    expect(await (await t.b('GET', '/v1/actions')).json()).toEqual({ items: [] });
    await expectError(await t.b('GET', `/v1/actions/${id}`), 404, 'not_found');
    await expectError(await t.b('PUT', `/v1/actions/${id}`, restart), 404, 'not_found');
    await expectError(await t.b('DELETE', `/v1/actions/${id}`), 404, 'not_found');
    expect((await t.memory.actions.get(TEST_TENANTS.a, id))!.definition.name).toBe('rollback');
    await expectError(await t.anonymous('GET', '/v1/actions'), 401, 'unauthorized');
  });
});
