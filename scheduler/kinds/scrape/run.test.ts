import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { guardedRequest } from '../../../tenant-config/guarded-http.ts';
import { testJobContext } from '../../../test/helpers/job-context.ts';
import { startOllamaStandIn, type OllamaStandIn } from '../../../test/helpers/ollama-stand-in.ts';
import { type JobOf, parseJob } from '../../../tenant-config/jobs.ts';
import type { LookupAll } from '../../../tenant-config/url-guard.ts';
import { MAX_JOB_BODY_BYTES } from '../../context.ts';
import { runScrape, USER_AGENT } from './run.ts';

/*
 * Each site is a local HTTP server standing in for a third-party site: it
 * answers from a table of paths and records every request it receives, with
 * when, so a test can say what was (and was never) asked of it. Before this
 * change there was no scrape runner at all; the assertions below each name
 * what a plain CheerioCrawler run (crawlee's defaults) would do instead.
 */
interface Hit {
  path: string;
  at: number;
  headers: IncomingHttpHeaders;
}
type Answer = { status?: number; type?: string; body?: string; headers?: Record<string, string> };
interface Site {
  url: string;
  hits: Hit[];
  paths(): string[];
}

const servers: Server[] = [];
async function site(routes: Record<string, Answer | string>, host = '127.0.0.1'): Promise<Site> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    const p = req.url ?? '/';
    hits.push({ path: p, at: Date.now(), headers: req.headers });
    const route = routes[p] ?? { status: 404, body: 'not here' };
    const a = typeof route === 'string' ? { body: route } : route;
    res.writeHead(a.status ?? 200, { 'content-type': a.type ?? 'text/html; charset=utf-8', ...a.headers }).end(a.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  servers.push(server);
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, hits, paths: () => hits.map((h) => h.path) };
}
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

const html = (title: string, body: string) => `<!doctype html><html><head><title>${title}</title></head><body>${body}</body></html>`;
const links = (...hrefs: string[]) => hrefs.map((h) => `<a href="${h}">${h}</a>`).join(' ');

const job = (params: Record<string, unknown>) =>
  parseJob({ name: 'crawl', schedule: '@hourly', kind: 'scrape', params: { rate_per_domain: 50, ...params } }, { allowLoopback: true }) as JobOf<'scrape'>;

describe('the scrape job', () => {
  it('publishes each page with its title, visible text and absolute links, relative ones resolved', async () => {
    const s = await site({
      '/robots.txt': { status: 404 },
      '/docs/': html(
        'Docs',
        `<script>track()</script><h1>Guide</h1><p>Read   the <b>intro</b>.</p>${links('intro', '../about', `/docs/intro#top`, 'mailto:x@example.com')}`,
      ),
      '/docs/intro': html('Intro', '<p>Hello.</p>'),
      '/about': html('About', '<p>Us.</p>'),
    });
    const ctx = testJobContext({ now: () => 1_764_000_000_000 });
    const result = await runScrape(job({ start_urls: [`${s.url}/docs/`] }), ctx);

    const pages = ctx.publisher.records('scrapedPages');
    const start = pages.find((p) => p.url === `${s.url}/docs/`);
    expect(start).toMatchObject({
      tenant: 'acme',
      job_id: 'job-1',
      run_id: 'run-1',
      depth: 0,
      status: 200,
      content_type: 'text/html; charset=utf-8',
      title: 'Docs',
      text: `Guide Read the intro. intro ../about /docs/intro#top mailto:x@example.com`,
      links: [`${s.url}/docs/intro`, `${s.url}/about`],
      fetched_at: 1_764_000_000_000,
    });
    expect(pages.map((p) => [p.url, p.depth, p.title]).sort()).toEqual([
      [`${s.url}/about`, 1, 'About'],
      [`${s.url}/docs/`, 0, 'Docs'],
      [`${s.url}/docs/intro`, 1, 'Intro'],
    ]);
    expect(new Set(pages.map((p) => p.page_id)).size).toBe(3);
    expect(result).toEqual({ items: 3, details: { pages: 3, skipped_robots: 0, skipped_other: 0, failed: 0, extracted: 0 } });
    // The crawler says who it is (crawlee's default would send generated browser headers).
    expect(s.hits.every((h) => h.headers['user-agent'] === USER_AGENT)).toBe(true);
  });

  it('never requests a page robots.txt disallows, and counts it as skipped', async () => {
    const s = await site({
      '/robots.txt': { type: 'text/plain', body: 'User-agent: *\nDisallow: /private\n\nUser-agent: AutopilotBot\nDisallow: /private\nDisallow: /bots-only\n' },
      '/': html('Home', links('/public', '/private/x', '/bots-only')),
      '/public': html('Public', links('/private/y', '/private/x')),
      '/private/x': html('Secret', ''),
      '/private/y': html('Secret', ''),
      '/bots-only': html('Not for bots', ''),
    });
    const ctx = testJobContext();
    const result = await runScrape(job({ start_urls: [`${s.url}/`], max_depth: 3 }), ctx);

    expect(s.paths().sort()).toEqual(['/', '/public', '/robots.txt']);
    expect(s.paths().filter((p) => p === '/robots.txt')).toHaveLength(1);
    expect(
      ctx.publisher
        .records('scrapedPages')
        .map((p) => p.url)
        .sort(),
    ).toEqual([`${s.url}/`, `${s.url}/public`]);
    // /private/x (linked twice) counted once; the group for our user agent is the one that applies.
    expect(result.details).toMatchObject({ pages: 2, skipped_robots: 3 });
  });

  it('a robots.txt that fails with a server error disallows the site (RFC 9309), where crawlee would allow it', async () => {
    const s = await site({ '/robots.txt': { status: 503 }, '/': html('Home', '') });
    const ctx = testJobContext();
    const result = await runScrape(job({ start_urls: [`${s.url}/`] }), ctx);
    expect(s.paths()).toEqual(['/robots.txt']);
    expect(result).toEqual({ items: 0, details: { pages: 0, skipped_robots: 1, skipped_other: 0, failed: 0, extracted: 0 } });
  });

  it('keeps to rate_per_domain: no more than 2 requests to the host in any 1 s window, at concurrency 4', async () => {
    // A binary tree of pages: every page links two more, so four requests are always ready at once.
    const routes: Record<string, string> = { '/robots.txt': 'User-agent: *\nAllow: /' };
    for (let n = 0; n < 40; n++) routes[`/p/${n}`] = html(`P${n}`, links(`/p/${2 * n + 1}`, `/p/${2 * n + 2}`));
    const s = await site(routes);
    const result = await runScrape(job({ start_urls: [`${s.url}/p/0`], max_depth: 5, max_pages: 10, concurrency: 4, rate_per_domain: 2 }), testJobContext());

    expect(result.details).toMatchObject({ pages: 10 });
    const times = s.hits.map((h) => h.at);
    expect(times.length).toBe(11); // robots.txt and 10 pages
    // Any 3 consecutive requests span at least 1 s. Without the pace, crawlee takes 4 at a time within milliseconds.
    const tightest = Math.min(...times.slice(2).map((t, i) => t - times[i]!));
    expect(tightest).toBeGreaterThanOrEqual(1000);
  }, 30_000);

  it('paces each host on its own: two hosts are crawled side by side, each at its own rate', async () => {
    const a = await site({ '/robots.txt': '', '/': html('A', links('/1', '/2')), '/1': html('A1', ''), '/2': html('A2', '') }, '127.0.0.1');
    const b = await site({ '/robots.txt': '', '/': html('B', links('/1', '/2')), '/1': html('B1', ''), '/2': html('B2', '') }, '127.0.0.2');
    await runScrape(job({ start_urls: [`${a.url}/`, `${b.url}/`], rate_per_domain: 1, concurrency: 4 }), testJobContext());

    for (const s of [a, b]) {
      expect(s.hits).toHaveLength(4);
      const gaps = s.hits.slice(1).map((h, i) => h.at - s.hits[i]!.at);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);
    }
    // One pace for all hosts would space all 8 requests by a second; per host, the two sites overlap.
    const closest = Math.min(...a.hits.flatMap((x) => b.hits.map((y) => Math.abs(x.at - y.at))));
    expect(closest).toBeLessThan(500);
  }, 30_000);

  it('stops at max_depth and at max_pages, counting the links left over the page limit', async () => {
    const routes: Record<string, string> = { '/robots.txt': '' };
    for (let n = 0; n < 30; n++) routes[`/p/${n}`] = html(`P${n}`, links(`/p/${2 * n + 1}`, `/p/${2 * n + 2}`));
    const deep = await site(routes);
    const ctx = testJobContext();
    const shallow = await runScrape(job({ start_urls: [`${deep.url}/p/0`], max_depth: 1 }), ctx);
    expect(deep.paths().sort()).toEqual(['/p/0', '/p/1', '/p/2', '/robots.txt']);
    expect(shallow.details).toMatchObject({ pages: 3, skipped_other: 0 });

    deep.hits.length = 0;
    const limited = await runScrape(job({ start_urls: [`${deep.url}/p/0`], max_depth: 10, max_pages: 4, concurrency: 1 }), testJobContext());
    expect(deep.paths().filter((p) => p !== '/robots.txt')).toHaveLength(4);
    expect(limited.details).toMatchObject({ pages: 4, failed: 0 });
    expect(limited.details.skipped_other).toBeGreaterThan(0);
    expect(limited.items).toBe(4);

    const startOnly = await runScrape(job({ start_urls: [`${deep.url}/p/0`], max_depth: 0 }), testJobContext());
    expect(startOnly.items).toBe(1);
  });

  it('publishes pages in chunks as the crawl goes, the rest at its end', async () => {
    const wide: Record<string, string> = { '/robots.txt': '', '/': html('Index', links(...Array.from({ length: 24 }, (_, n) => `/item/${n}`))) };
    for (let n = 0; n < 24; n++) wide[`/item/${n}`] = html(`Item ${n}`, '');
    const w = await site(wide);
    const ctx2 = testJobContext();
    await runScrape(job({ start_urls: [`${w.url}/`], concurrency: 4 }), ctx2);
    expect(ctx2.publisher.published.filter((b) => b.kind === 'scrapedPages').map((b) => b.records.length)).toEqual([20, 5]);
  });

  it('follows only the start hosts when same_domain, and only links matching include', async () => {
    const other = await site({ '/robots.txt': '', '/elsewhere': html('Elsewhere', '') }, '127.0.0.2');
    const s = await site({
      '/robots.txt': '',
      '/': html('Home', links('/blog/1', '/shop/1', `${other.url}/elsewhere`)),
      '/blog/1': html('Blog', ''),
      '/shop/1': html('Shop', ''),
    });
    await runScrape(job({ start_urls: [`${s.url}/`], include: '/blog/' }), testJobContext());
    expect(s.paths().sort()).toEqual(['/', '/blog/1', '/robots.txt']);
    expect(other.hits).toHaveLength(0);

    s.hits.length = 0;
    await runScrape(job({ start_urls: [`${s.url}/`], same_domain: false }), testJobContext());
    expect(s.paths().sort()).toEqual(['/', '/blog/1', '/robots.txt', '/shop/1']);
    expect(other.paths().sort()).toEqual(['/elsewhere', '/robots.txt']);
  });

  it('takes a redirect as a request of its own, under robots.txt and the pace; records 4xx pages without following them', async () => {
    const s = await site({
      '/robots.txt': 'User-agent: *\nDisallow: /private',
      '/old': { status: 301, headers: { location: '/new' } },
      '/new': html('New', links('/sneaky', '/gone', '/logo.png')),
      '/sneaky': { status: 302, headers: { location: '/private/z' } },
      '/gone': { status: 404, body: html('Not found', links('/from-404')) },
      '/logo.png': { type: 'image/png', body: 'PNG' },
      '/from-404': html('Never', ''),
    });
    const ctx = testJobContext();
    const result = await runScrape(job({ start_urls: [`${s.url}/old`], max_depth: 3 }), ctx);

    // got would have followed /sneaky to /private/z, past robots.txt; here the target is checked first.
    expect(s.paths()).not.toContain('/private/z');
    expect(s.paths()).not.toContain('/from-404');
    const pages = ctx.publisher.records('scrapedPages');
    expect(pages.map((p) => [p.url, p.status, p.depth]).sort()).toEqual([
      [`${s.url}/gone`, 404, 1],
      [`${s.url}/new`, 200, 0],
    ]);
    // /private/z disallowed; /logo.png is not a page (its body is not downloaded).
    expect(result.details).toMatchObject({ pages: 2, skipped_robots: 1, skipped_other: 1, failed: 0 });
  });

  it('checks every URL with the guard before its request: a cloud metadata link is refused, not requested', async () => {
    const s = await site({ '/robots.txt': '', '/': html('Home', links('http://169.254.169.254/latest/meta-data/', 'http://[::ffff:169.254.169.254]/')) });
    const result = await runScrape(job({ start_urls: [`${s.url}/`], same_domain: false }), testJobContext());
    expect(result.details).toMatchObject({ pages: 1, skipped_other: 2, failed: 0 });
  });

  it("resolves names through the guard's lookup when connecting, so a name that rebinds after the check is refused", async () => {
    const s = await site({ '/robots.txt': '', '/': html('Home', links('/next')), '/next': html('Next', '') });
    const port = new URL(s.url).port;
    const asked: string[] = [];
    // site.test is not in any DNS (.test is reserved): only the guard's lookup knows it.
    const honest: LookupAll = async (host) => {
      asked.push(host);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const guard = { allowLoopback: true, lookup: honest };
    const ctx = { ...testJobContext(), guard, http: guardedRequest(guard, { maxBodyBytes: MAX_JOB_BODY_BYTES }) };
    const ok = await runScrape(job({ start_urls: [`http://site.test:${port}/`] }), ctx);
    expect(ok.details).toMatchObject({ pages: 2, failed: 0 });
    expect(s.hits.find((h) => h.path === '/next')?.headers.host).toBe(`site.test:${port}`);

    // Loopback for robots.txt (its check and its connection) and for the page's check; the cloud metadata
    // address from then on, when the page's connection looks the name up.
    s.hits.length = 0;
    asked.length = 0;
    const rebinding: LookupAll = async (host) => {
      asked.push(host);
      return [{ address: asked.length <= 3 ? '127.0.0.1' : '169.254.169.254', family: 4 }];
    };
    const guard2 = { allowLoopback: true, lookup: rebinding };
    const ctx2 = { ...testJobContext(), guard: guard2, http: guardedRequest(guard2, { maxBodyBytes: MAX_JOB_BODY_BYTES }) };
    const refused = await runScrape(job({ start_urls: [`http://site.test:${port}/`] }), ctx2);
    expect(s.paths()).toEqual(['/robots.txt']);
    expect(asked.length).toBeGreaterThanOrEqual(4);
    expect(refused.details).toMatchObject({ pages: 0, skipped_other: 1, failed: 0 });
  });

  it('extracts every page through the model when extract is set, each extraction sharing its page id', async () => {
    const ollama: OllamaStandIn = await startOllamaStandIn();
    try {
      const s = await site({
        '/robots.txt': '',
        '/': html('Shop', `<p>Acme Widget costs 19.99.</p>${links('/b')}`),
        '/b': html('Shop B', '<p>Acme Gadget costs 5.</p>'),
      });
      ollama.script({ kind: 'answer', body: { result: { product: 'Acme Widget', price: 19.99 }, confidence: 0.9 } }, { kind: 'text', content: 'no idea' });
      const schema = { type: 'object', properties: { product: { type: 'string' }, price: { type: 'number' } }, required: ['product', 'price'] };
      const ctx = testJobContext({ llm: { host: ollama.url } });
      const result = await runScrape(job({ start_urls: [`${s.url}/`], concurrency: 1, extract: { schema } }), ctx);

      const pages = ctx.publisher.records('scrapedPages');
      const extractions = ctx.publisher.records('extractions');
      expect(extractions.map((e) => [e.url, e.status]).sort()).toEqual([
        [`${s.url}/`, 'ok'],
        [`${s.url}/b`, 'invalid'],
      ]);
      for (const e of extractions) expect(e.extraction_id).toBe(pages.find((p) => p.url === e.url)!.page_id);
      const first = extractions.find((e) => e.url === `${s.url}/`)!;
      expect(first.source_text).toBe('Acme Widget costs 19.99. /b');
      expect(first.quality).toBeGreaterThan(0.9);
      expect(extractions.find((e) => e.url === `${s.url}/b`)!.raw_answer).toBe('no idea');
      expect(result.details).toMatchObject({ pages: 2, extracted: 2, extraction_status: { ok: 1, invalid: 1, model_unavailable: 0 } });
    } finally {
      await ollama.close();
    }
  });

  it('a publish that fails fails the run, without fetching the pages again', async () => {
    const s = await site({ '/robots.txt': '', '/': html('Home', '') });
    const ctx = testJobContext();
    ctx.publisher.setDown(true);
    await expect(runScrape(job({ start_urls: [`${s.url}/`] }), ctx)).rejects.toMatchObject({ code: 'unavailable' });
    expect(s.paths()).toEqual(['/robots.txt', '/']);
  });

  it('stops when the run is stopped, and says so', async () => {
    const routes: Record<string, string> = { '/robots.txt': '' };
    for (let n = 0; n < 30; n++) routes[`/p/${n}`] = html(`P${n}`, links(`/p/${n + 1}`));
    const s = await site(routes);
    const stop = new AbortController();
    const ctx = testJobContext({ signal: stop.signal });
    const running = runScrape(job({ start_urls: [`${s.url}/p/0`], max_depth: 10, rate_per_domain: 4 }), ctx);
    setTimeout(() => stop.abort(), 800);
    await expect(running).rejects.toThrow(/stopped/);
    const seen = s.hits.length;
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(s.hits.length).toBe(seen); // nothing more asked of the site once stopped
    expect(seen).toBeLessThan(11);
  });
});

describe('crawlee inside a run', () => {
  let cwd: string;
  let dir: string;
  beforeAll(() => {
    cwd = process.cwd();
    dir = mkdtempSync(path.join(tmpdir(), 'scrape-cwd-'));
    process.chdir(dir);
  });
  afterAll(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes nothing to disk (crawlee would keep ./storage) and keeps nothing from one run to the next', async () => {
    const s = await site({ '/robots.txt': '', '/': html('Home', '') });
    const ctx = testJobContext();
    expect((await runScrape(job({ start_urls: [`${s.url}/`] }), ctx)).items).toBe(1);
    // A request queue shared between runs would call / already handled and fetch nothing the second time.
    expect((await runScrape(job({ start_urls: [`${s.url}/`] }), { ...ctx, runId: 'run-2' })).items).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
    expect(s.paths()).toEqual(['/robots.txt', '/', '/robots.txt', '/']);
  });
});
