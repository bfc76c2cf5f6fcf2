import { describe, expect, it } from 'vitest';
import { expectError, routeTestApp } from '../../test/helpers/gateway-app.ts';

/**
 * The CRUD that alert rules and notification targets share (documents.ts),
 * on in-memory stores: create, read, replace, delete, validation, and one
 * tenant's documents invisible to another. What each kind shows is in
 * alert-rules.test.ts and targets.test.ts.
 */
const KINDS = [
  {
    what: 'alert rule',
    path: '/v1/alert-rules',
    valid: { name: 'checkout p99', kind: 'threshold', service: 'checkout', metric: 'latency_ms', field: 'p99', op: 'gt', value: 500, for: '2m' },
    change: { value: 800 },
    invalid: { op: 'gte', for: 'soon' },
    invalidPaths: ['op', 'for'],
    invalidCode: 'bad_request',
  },
  {
    what: 'notification target',
    path: '/v1/notification-targets',
    valid: { name: 'on-call', kind: 'webhook', url: 'https://hooks.example.com' },
    change: { name: 'on-call (EU)' },
    invalid: { kind: 'pager' },
    invalidPaths: ['kind'],
    invalidCode: 'invalid_target',
  },
];

type Shown = { id: string; created_at: number; updated_at: number } & Record<string, unknown>;

describe.each(KINDS)('$what CRUD ($path)', (k) => {
  const created = async (t: ReturnType<typeof routeTestApp>) => {
    const res = await t.a('POST', k.path, k.valid);
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as Shown;
  };

  it('creates one (201) that reads back by id and in the list', async () => {
    const t = routeTestApp();
    const doc = await created(t);
    expect(doc).toMatchObject(k.valid);
    expect(await (await t.a('GET', `${k.path}/${doc.id}`)).json()).toEqual(doc);
    expect(await (await t.a('GET', k.path)).json()).toEqual({ items: [doc] });
  });

  it('replaces one: the change shows, created_at stays, updated_at grows', async () => {
    const t = routeTestApp();
    const doc = await created(t);
    const res = await t.a('PUT', `${k.path}/${doc.id}`, { ...k.valid, ...k.change });
    expect(res.status).toBe(200);
    const replaced = (await res.json()) as Shown;
    expect(replaced).toMatchObject({ ...k.change, id: doc.id, created_at: doc.created_at });
    expect(replaced.updated_at).toBeGreaterThan(doc.updated_at);
    expect(await (await t.a('GET', `${k.path}/${doc.id}`)).json()).toEqual(replaced);
  });

  it('deletes one: 204, then 404 and gone from the list', async () => {
    const t = routeTestApp();
    const doc = await created(t);
    expect((await t.a('DELETE', `${k.path}/${doc.id}`)).status).toBe(204);
    await expectError(await t.a('GET', `${k.path}/${doc.id}`), 404, 'not_found');
    await expectError(await t.a('DELETE', `${k.path}/${doc.id}`), 404, 'not_found');
    expect(await (await t.a('GET', k.path)).json()).toEqual({ items: [] });
  });

  it('refuses an invalid one with 400 naming each field, and keeps nothing', async () => {
    const t = routeTestApp();
    const error = await expectError(await t.a('POST', k.path, { ...k.valid, ...k.invalid }), 400, k.invalidCode);
    expect((error.details as { path: string }[]).map((d) => d.path)).toEqual(k.invalidPaths);
    expect(await (await t.a('GET', k.path)).json()).toEqual({ items: [] });
  });

  it('refuses an invalid replacement and keeps the one it had', async () => {
    const t = routeTestApp();
    const doc = await created(t);
    await expectError(await t.a('PUT', `${k.path}/${doc.id}`, { ...k.valid, ...k.invalid }), 400, k.invalidCode);
    expect(await (await t.a('GET', `${k.path}/${doc.id}`)).json()).toEqual(doc);
  });

  it("hides one tenant's from another: not listed, and 404 to read, replace or delete", async () => {
    const t = routeTestApp();
    const doc = await created(t);
    expect(await (await t.b('GET', k.path)).json()).toEqual({ items: [] });
    for (const [method, body] of [['GET'], ['PUT', { ...k.valid, ...k.change }], ['DELETE']] as const) {
      await expectError(await t.b(method, `${k.path}/${doc.id}`, body), 404, 'not_found');
    }
    expect(await (await t.a('GET', `${k.path}/${doc.id}`)).json()).toEqual(doc);
  });
});
