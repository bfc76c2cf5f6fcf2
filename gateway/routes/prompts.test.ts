import { describe, expect, it } from 'vitest';
import { PROMPT_VARIABLES } from '../../tenant-config/prompts.ts';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';

/**
 * The prompt registry (/v1/prompts) on in-memory stores: versions numbered
 * per tenant and name, the variables a template may use, tags that move, and
 * one tenant's prompts invisible to another. Template rules themselves are
 * in tenant-config/prompts.test.ts.
 */
const v1 = { template: 'Service {{service}}.\n{{context}}', changelog: 'first' };
const v2 = { template: 'Service {{service}} ({{severity}}).\n{{context}}', changelog: 'severity' };

async function withVersions(...bodies: object[]) {
  const t = routeTestApp();
  for (const body of bodies) expect((await t.a('POST', '/v1/prompts/triage/versions', body)).status).toBe(201);
  return t;
}

describe('prompt versions', () => {
  it('numbers versions from 1, each edited from the latest unless it names its parent', async () => {
    const t = await withVersions(v1, v2);
    const third = await (await t.a('POST', '/v1/prompts/triage/versions', { ...v1, changelog: 'back to v1', parent_version: 1 })).json();
    expect(third).toMatchObject({ version: 3, parent_version: 1, variables: ['service', 'context'] });
    expect((await t.memory.prompts.versions(TEST_TENANTS.a, 'triage')).map((v) => [v.version, v.parent_version])).toEqual([
      [1, null],
      [2, 1],
      [3, 1],
    ]);
  });

  it('refuses a template with variables the analyst does not fill in, listing them and those it does', async () => {
    const t = routeTestApp();
    const error = await expectError(
      await t.a('POST', '/v1/prompts/triage/versions', { template: '{{context}} {{weather}} {{mood}}', changelog: 'x' }),
      400,
      'bad_request',
    );
    expect(error.details).toEqual({ unknown: ['weather', 'mood'], available: [...PROMPT_VARIABLES] });
    expect(await t.memory.prompts.versions(TEST_TENANTS.a, 'triage')).toEqual([]);
  });

  it('refuses a parent_version that does not exist yet', async () => {
    const t = await withVersions(v1);
    const error = await expectError(await t.a('POST', '/v1/prompts/triage/versions', { ...v2, parent_version: 2 }), 400, 'bad_request');
    expect(error.message).toBe('parent_version 2 does not exist (latest is 1)');
  });

  it('shows a prompt as its versions without templates, and its tags', async () => {
    const t = await withVersions(v1, v2);
    await t.a('PUT', '/v1/prompts/triage/tags/production', { version: 1 });
    const prompt = (await (await t.a('GET', '/v1/prompts/triage')).json()) as { name: string; versions: Record<string, unknown>[]; tags: unknown };
    expect(prompt.tags).toEqual({ production: 1 });
    expect(prompt.versions.map((v) => Object.keys(v).sort())).toEqual(
      Array(2).fill(['changelog', 'created_at', 'name', 'parent_version', 'variables', 'version']),
    );
    expect(await (await t.a('GET', '/v1/prompts')).json()).toEqual({ items: [{ name: 'triage', latest_version: 2, tags: { production: 1 } }] });
  });

  it('diffs two versions as text/x-diff', async () => {
    const t = await withVersions(v1, v2);
    const res = await t.a('GET', '/v1/prompts/triage/diff?from=1&to=2');
    expect(res.headers.get('content-type')).toBe('text/x-diff; charset=utf-8');
    expect(await res.text()).toMatch(/^--- triage@v1\n\+\+\+ triage@v2\n[\s\S]*-Service \{\{service\}\}\.\n\+Service \{\{service\}\} \(\{\{severity\}\}\)\./);
  });
});

describe('prompt tags', () => {
  it('moves a tag to another version', async () => {
    const t = await withVersions(v1, v2);
    expect(await (await t.a('PUT', '/v1/prompts/triage/tags/production', { version: 1 })).json()).toEqual({ name: 'triage', tag: 'production', version: 1 });
    expect((await t.a('PUT', '/v1/prompts/triage/tags/production', { version: 2 })).status).toBe(200);
    expect(await t.memory.prompts.tags(TEST_TENANTS.a, 'triage')).toEqual({ production: 2 });
  });

  it('deletes a tag: 204, then 404 for the tag that is gone', async () => {
    const t = await withVersions(v1);
    await t.a('PUT', '/v1/prompts/triage/tags/candidate', { version: 1 });
    expect((await t.a('DELETE', '/v1/prompts/triage/tags/candidate')).status).toBe(204);
    await expectError(await t.a('DELETE', '/v1/prompts/triage/tags/candidate'), 404, 'not_found');
    expect(await t.memory.prompts.tags(TEST_TENANTS.a, 'triage')).toEqual({});
  });
});

describe("one tenant's prompts, to another", () => {
  it.each([
    ['GET', '/v1/prompts/triage', undefined],
    ['GET', '/v1/prompts/triage/versions/1', undefined],
    ['GET', '/v1/prompts/triage/diff?from=1&to=1', undefined],
    ['PUT', '/v1/prompts/triage/tags/production', { version: 1 }],
    ['DELETE', '/v1/prompts/triage/tags/candidate', undefined],
  ])('%s %s is 404', async (method, path, body) => {
    const t = await withVersions(v1);
    await t.a('PUT', '/v1/prompts/triage/tags/candidate', { version: 1 });
    await expectError(await t.b(method, path, body), 404, 'not_found');
    expect(await t.memory.prompts.tags(TEST_TENANTS.a, 'triage')).toEqual({ candidate: 1 });
    expect(await t.memory.prompts.tags(TEST_TENANTS.b, 'triage')).toEqual({});
  });

  it('are not listed, and its own first version of the same name is its version 1', async () => {
    const t = await withVersions(v1, v2);
    expect(await (await t.b('GET', '/v1/prompts')).json()).toEqual({ items: [] });
    expect(await (await t.b('POST', '/v1/prompts/triage/versions', v1)).json()).toMatchObject({ tenant: TEST_TENANTS.b, version: 1, parent_version: null });
  });
});
