import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { routeTestApp, TEST_KEYS, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';
import { CONSOLE_CSP } from './console.ts';

/**
 * The console's files as the gateway serves them, without a browser (the
 * browser test is test/console.test.ts): the page at /, every module it
 * imports and every stylesheet it links found on this server, the CSP that
 * keeps it to this origin, revalidation by ETag, no way to name a file
 * outside console/, and /v1/me behind the key like the rest of /v1.
 */
const { app } = routeTestApp();
const get = (url: string, headers: Record<string, string> = {}) => app.request(url, { headers });

describe('the console files', () => {
  it('serves the page at / with a CSP that allows this origin only', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(await res.text()).toContain('<script type="module" src="/console/app.js">');
  });

  it('serves every file the page and its modules name, with their content types', async () => {
    const html = await (await get('/')).text();
    const named = [...html.matchAll(/(?:href|src)="(\/console\/[^"]+)"/g)].map((m) => m[1]!);
    const pending = [...named];
    const seen = new Set<string>();
    while (pending.length) {
      const url = pending.pop()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const res = await get(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toMatch(url.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      if (!url.endsWith('.js')) continue;
      // Static imports, resolved against the importing module's URL as a browser would.
      for (const m of (await res.text()).matchAll(/^import [^'"]*['"]([^'"]+)['"];?$/gm)) pending.push(new URL(m[1]!, `http://x${url}`).pathname);
    }
    expect(seen).toContain('/console/vendor/uPlot.esm.js');
    expect(seen).toContain('/console/pages/incident.js');
    // Every module of the console is reachable from the page: none is dead.
    const folder = path.resolve(import.meta.dirname, '../../console');
    const files = (await readdir(folder, { recursive: true })).filter((f) => f.endsWith('.js')).map((f) => `/console/${f.split(path.sep).join('/')}`);
    for (const f of files) expect(seen, f).toContain(f);
  });

  it('answers 304 to a request that holds the current ETag', async () => {
    const first = await get('/console/app.js');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const again = await get('/console/app.js', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await get('/console/app.js', { 'if-none-match': '"stale"' })).status).toBe(200);
  });

  it('sends files gzipped to a client that takes gzip, the same bytes once unzipped', async () => {
    const plain = await get('/console/vendor/uPlot.esm.js');
    expect(plain.headers.get('content-encoding')).toBeNull();
    const bytes = new Uint8Array(await plain.arrayBuffer());
    const zipped = await get('/console/vendor/uPlot.esm.js', { 'accept-encoding': 'gzip, deflate, br' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toBe('accept-encoding');
    const wire = new Uint8Array(await zipped.arrayBuffer());
    expect(wire.length).toBeLessThan(bytes.length / 2);
    expect(new Uint8Array(gunzipSync(wire))).toEqual(bytes);
  });

  it('serves nothing outside the console folder', async () => {
    for (const url of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/..%2fpackage.json', '/console/missing.js', '/console/']) {
      const res = await get(url);
      expect(res.status, url).toBe(404);
      expect(await res.text(), url).not.toContain('"dependencies"');
    }
  });
});

describe('GET /v1/me', () => {
  it("names the key's tenant, and refuses a request without a known key", async () => {
    const ok = await get('/v1/me', { authorization: `Bearer ${TEST_KEYS.b}` });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ tenant: TEST_TENANTS.b });
    expect((await get('/v1/me')).status).toBe(401);
    expect((await get('/v1/me', { authorization: 'Bearer nope' })).status).toBe(401);
  });
});
