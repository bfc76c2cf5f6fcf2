import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Hono, type Context } from 'hono';
import type { TenantEnv } from '../middleware/auth.ts';

/**
 * The browser console: the files of console/ (plain ES modules, checked in
 * as source, no build step) at /console/*, its page at /, and uPlot from its
 * npm package at /console/vendor/*. Nothing is fetched from anywhere else:
 * the Content-Security-Policy allows this origin only, so a page that tried
 * would fail visibly. The files are public (they hold no data); every datum
 * comes from the /v1 API with the key the person signs in with, and
 * GET /v1/me says which tenant that key is.
 */
const CONSOLE_FOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../console');
const UPLOT_FOLDER = path.join(path.dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');

const VENDOR: Record<string, string> = {
  'uPlot.esm.js': path.join(UPLOT_FOLDER, 'uPlot.esm.js'),
  'uPlot.min.css': path.join(UPLOT_FOLDER, 'uPlot.min.css'),
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

export const CONSOLE_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  /** The same, gzipped once at load: 219 KB of files are 63 KB on the wire. */
  gzipped: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

/** Every file the console serves, by URL path, read once on first request: only these paths exist, so no request can name another file. */
let assets: Promise<Map<string, Asset>> | undefined;

async function loadAssets(): Promise<Map<string, Asset>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(CONSOLE_FOLDER, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !(path.extname(entry.name) in TYPES)) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(`/console/${path.relative(CONSOLE_FOLDER, full).split(path.sep).join('/')}`, full);
  }
  for (const [name, full] of Object.entries(VENDOR)) files.set(`/console/vendor/${name}`, full);
  const loaded = new Map<string, Asset>();
  for (const [url, full] of files) {
    const body = new Uint8Array(await readFile(full));
    const gzipped = new Uint8Array(gzipSync(body, { level: 9 }));
    loaded.set(url, { body, gzipped, type: TYPES[path.extname(full)]!, etag: `"${createHash('sha1').update(body).digest('base64url')}"` });
  }
  return loaded;
}

function asset(url: string): Promise<Asset | undefined> {
  if (!assets) {
    assets = loadAssets();
    assets.catch(() => {
      assets = undefined;
    });
  }
  return assets.then((all) => all.get(url));
}

/** Revalidated on every load (no-cache + ETag): a new release is picked up at once, an unchanged file costs a 304. */
function send(c: Context, a: Asset): Response {
  const headers = {
    etag: a.etag,
    'cache-control': 'no-cache',
    vary: 'accept-encoding',
    'content-security-policy': CONSOLE_CSP,
    'x-content-type-options': 'nosniff',
  };
  if (c.req.header('if-none-match') === a.etag) return c.body(null, 304, headers);
  if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) return c.body(a.gzipped, 200, { ...headers, 'content-type': a.type, 'content-encoding': 'gzip' });
  return c.body(a.body, 200, { ...headers, 'content-type': a.type });
}

export function consoleRoutes(): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();

  app.get('/', async (c) => send(c, (await asset('/console/index.html'))!));
  app.get('/console/*', async (c, next) => {
    const a = await asset(c.req.path);
    return a ? send(c, a) : next();
  });
  // Behind the API-key middleware like every /v1 route: a key the gateway does not know gets the usual 401.
  app.get('/v1/me', (c) => c.json({ tenant: c.get('tenant') }));

  return app;
}
