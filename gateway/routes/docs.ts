import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { swaggerUI } from '@hono/swagger-ui';
import { Hono } from 'hono';

/**
 * Interactive API docs: Swagger UI on the OpenAPI document at /openapi.json.
 * The page comes from Hono's own middleware (@hono/swagger-ui); its stylesheet
 * and script, which that middleware would take from a CDN, are served here
 * from the swagger-ui-dist package, so the docs work on a machine with no way
 * out to the internet and load nothing from a third party. Swagger UI's
 * validator badge (a call to validator.swagger.io) is turned off for the
 * same reason. No key: the document itself is public, and "Authorize" takes
 * the API key in the page.
 */
export const DOCS_ASSETS_BASE = '/docs';

/** What the page loads, under `${DOCS_ASSETS_BASE}/swagger-ui-dist/` (the path @hono/swagger-ui builds from its baseUrl). */
const ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;

const distFolder = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** Read once, on first use (1.9 MB in all), and kept: every page view asks for both. */
const loaded = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();
const asset = (file: string) => {
  let body = loaded.get(file);
  if (!body) {
    body = readFile(path.join(distFolder, file)).then((bytes) => new Uint8Array(bytes));
    body.catch(() => loaded.delete(file));
    loaded.set(file, body);
  }
  return body;
};

export function docsRoutes(): Hono {
  const app = new Hono();

  app.get('/docs', swaggerUI({ url: '/openapi.json', baseUrl: DOCS_ASSETS_BASE, title: 'Autopilot API', validatorUrl: 'none' }));

  for (const [file, contentType] of Object.entries(ASSETS)) {
    app.get(`${DOCS_ASSETS_BASE}/swagger-ui-dist/${file}`, async (c) =>
      c.body(await asset(file), 200, { 'content-type': contentType, 'cache-control': 'public, max-age=3600' }),
    );
  }

  return app;
}
