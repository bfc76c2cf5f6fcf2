import { describe, expect, it } from 'vitest';
import { routeTestApp } from '../../test/helpers/gateway-app.ts';

/**
 * The OpenAPI document as the app serves it, against the routes the app
 * really has (Hono's `app.routes`): every route is documented and every
 * documented operation is a route. Statuses per operation are checked in
 * gateway/openapi.test.ts.
 */
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
/** Operator endpoints, guarded by the admin key: not part of the tenant API the document describes. */
const UNDOCUMENTED = new Set(['POST /admin/sql']);

describe('GET /openapi.json', () => {
  const t = routeTestApp();
  const served = async () => {
    const res = await t.anonymous('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    return (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
  };
  const routes = [...new Set(t.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`))];

  it('is served without a key, as OpenAPI 3.1', async () => {
    expect((await served()).openapi).toMatch(/^3\.1\./);
  });

  it('documents every route the app answers', async () => {
    const { paths } = await served();
    expect(routes.length).toBeGreaterThan(25);
    const missing = routes
      .filter((r) => !UNDOCUMENTED.has(r))
      .filter((r) => {
        const [method, path] = r.split(' ') as [string, string];
        return !paths[path]?.[method.toLowerCase()];
      });
    expect(missing).toEqual([]);
  });

  it('documents no operation the app does not answer', async () => {
    const { paths } = await served();
    const documented = Object.entries(paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.filter((op) => !routes.includes(op))).toEqual([]);
  });
});
