import { describe, expect, it } from 'vitest';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';

/**
 * What /v1/notification-targets shows and refuses. CRUD, validation and
 * tenant isolation, shared with alert rules, are in documents.test.ts.
 */
describe('notification targets', () => {
  const slack = { name: 'ops', kind: 'slack', url: 'https://hooks.slack.com/services/T0/B0/s3cret' };
  const webhook = { name: 'pager', kind: 'webhook', url: 'https://pager.example.com/hook?token=s3cret', headers: { Authorization: 'Bearer s3cret' } };

  it.each([
    ['a Slack URL', slack, { url: 'https://hooks.slack.com/…' }],
    ['a webhook URL and its header values', webhook, { url: 'https://pager.example.com/…', headers: { Authorization: '***' } }],
  ])('never shows the secret parts of %s, and keeps them for delivery', async (_what, body, shown) => {
    const t = routeTestApp();
    const created = await (await t.a('POST', '/v1/notification-targets', body)).json();
    const listed = (await (await t.a('GET', '/v1/notification-targets')).json()) as { items: unknown[] };
    expect(created).toMatchObject(shown);
    expect(listed.items).toEqual([created]);
    expect(JSON.stringify([created, listed])).not.toContain('s3cret');
    expect((await t.memory.targets.list(TEST_TENANTS.a))[0]!.definition).toEqual({ ...body, enabled: true });
  });

  it.each([
    ['http://127.0.0.1:9/hook', false, 400],
    ['http://localhost:9/hook', false, 400],
    ['http://127.0.0.1:9/hook', true, 201],
    ['http://169.254.169.254/latest/meta-data', true, 400],
    ['file:///etc/passwd', true, 400],
  ])('for %s with loopback allowed %s: %i', async (url, allowLoopbackTargets, status) => {
    const t = routeTestApp({ allowLoopbackTargets });
    const res = await t.a('POST', '/v1/notification-targets', { name: 'x', kind: 'webhook', url });
    if (status === 400) await expectError(res, 400, 'invalid_target');
    else expect(res.status).toBe(201);
    expect(await t.memory.targets.list(TEST_TENANTS.a)).toHaveLength(status === 201 ? 1 : 0);
  });

  it.each([
    ['a Slack target', slack, 'url'],
    ['a webhook target', webhook, 'url, headers.Authorization'],
  ])('refuses %s saved back as it was shown: the placeholders would replace the secrets', async (_what, body, fields) => {
    const t = routeTestApp();
    const created = (await (await t.a('POST', '/v1/notification-targets', body)).json()) as Record<string, unknown>;
    const { id, created_at: _, updated_at: __, ...shown } = created;
    const res = await t.a('PUT', `/v1/notification-targets/${id}`, shown);
    const error = await expectError(res, 400, 'invalid_target');
    expect(error.message).toContain(`${fields}: the hidden form shown on read was sent back`);
    expect((await t.memory.targets.list(TEST_TENANTS.a))[0]!.definition).toEqual({ ...body, enabled: true });
  });
});
