/**
 * Console benchmark: how long the first page takes in a real browser with
 * 50 services, from navigation start to the services page drawn (every card
 * on screen with its three charts), as a person opening the console sees it.
 *
 *   npm run bench:console [-- --json] [--loads 20] [--services 50]
 *
 * In one process: an embedded ClickHouse in a fresh temporary folder, seeded
 * as the sink and processors would have written it for two tenants (the
 * assistant benchmark's fleet: per service two hours of 1-minute latency
 * rollups with their sketches, logs with errors, two deployments, an
 * anomaly; an open incident for every fifth), the
 * gateway app on a loopback port, and Debian's chromium (headless, through
 * puppeteer-core). Each load is a new tab (sessionStorage signed in before
 * the page's scripts run); the first load has an empty HTTP cache, the
 * others revalidate (304). Also timed: GET /v1/services alone, in the page's
 * fetch. Aim (issue 17): under 1 s.
 */
import { parseArgs } from 'node:util';
import { ensureDebianTool } from '../compose/local/apt.ts';
import { LiveFeed } from '../gateway/live-feed.ts';
import { createStores } from '../gateway/stores.ts';
import { createLogger } from '../lib/log.ts';
import { IncidentChanges } from '../sql/stores/incidents.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import { gatewayTestApp, TEST_KEYS, TEST_TENANTS } from '../test/helpers/gateway-app.ts';
import { openClickHouse, seedFleet } from '../test/helpers/assistant-data.ts';
import { listen } from '../test/helpers/pipeline.ts';
import { stubPublisher } from '../test/helpers/publisher-stub.ts';
import { percentile } from './load.ts';

const { values: opts } = parseArgs({
  options: {
    json: { type: 'boolean' },
    loads: { type: 'string', default: '20' },
    services: { type: 'string', default: '50' },
  },
});
const LOADS = Number(opts.loads);
const SERVICES = Number(opts.services);
const say = (m: string) => process.stderr.write(`${m}\n`);

const ch = await openClickHouse('bench-console');
const now = Date.now();
const services = Array.from({ length: SERVICES }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
say(`seeding ${SERVICES} services × 2 tenants…`);
await seedFleet(ch, [TEST_TENANTS.a, TEST_TENANTS.b], services, now);

const live = new LiveFeed(async () => new IncidentChanges(ch), { pollMs: 1000, log: createLogger('bench-console-live', 'warn') });
const { app } = gatewayTestApp({ publisher: stubPublisher(), clickhouse: ch, stores: createStores(ch), live });
const server = await listen(app);
const chromium = await ensureDebianTool('chromium', 'chromium', say);
const browser = await launchBrowser(chromium);

interface Load {
  /** Navigation start → every on-screen card drawn, ms. */
  ready: number;
  /** The page's GET /v1/services, request start → response end, ms. */
  api: number;
  cards: number;
}

async function load(): Promise<Load> {
  const w = await browser.open('about:blank');
  await w.page.evaluateOnNewDocument(
    (key, tenant) => {
      sessionStorage.setItem('autopilot.apiKey', key);
      sessionStorage.setItem('autopilot.tenant', tenant);
    },
    TEST_KEYS.a,
    TEST_TENANTS.a,
  );
  await w.page.goto(`${server.url}/#/services`, { waitUntil: 'domcontentloaded' });
  await w.page.waitForFunction(
    () => {
      if (document.querySelector('main')?.getAttribute('data-ready') !== 'services') return false;
      const onScreen = [...document.querySelectorAll('article.card')].filter((c) => c.getBoundingClientRect().top < innerHeight);
      return onScreen.length > 0 && onScreen.every((c) => c.querySelectorAll('canvas').length === 3);
    },
    { polling: 'raf', timeout: 30_000 },
  );
  const result = await w.page.evaluate(() => {
    const api = performance.getEntriesByType('resource').find((e) => e.name.includes('/v1/services')) as PerformanceResourceTiming;
    return { ready: performance.now(), api: api.responseEnd - api.requestStart, cards: document.querySelectorAll('article.card').length };
  });
  if (w.problems.length) throw new Error(`the page reported problems: ${w.problems.join('; ')}`);
  await w.page.close();
  return result;
}

say(`${LOADS} loads of the services page…`);
const loads: Load[] = [];
for (let i = 0; i < LOADS; i++) loads.push(await load());
const [cold, ...warm] = loads;
const readyTimes = warm.map((l) => l.ready).sort((a, b) => a - b);
const apiTimes = loads.map((l) => l.api).sort((a, b) => a - b);
const figures = {
  services: loads[0]!.cards,
  cold_ready_ms: Math.round(cold!.ready),
  warm_ready_p50_ms: Math.round(percentile(readyTimes, 0.5)),
  warm_ready_p95_ms: Math.round(percentile(readyTimes, 0.95)),
  warm_ready_max_ms: Math.round(readyTimes.at(-1)!),
  api_p50_ms: Math.round(percentile(apiTimes, 0.5)),
  api_p95_ms: Math.round(percentile(apiTimes, 0.95)),
};

await browser.close();
await live.stop();
await server.close();
await ch.close();

if (opts.json) console.log(JSON.stringify(figures));
else {
  console.log(`services page, ${figures.services} services, ${LOADS} loads (first with an empty cache), navigation start → cards on screen drawn:`);
  console.log(`  first load          ${figures.cold_ready_ms} ms`);
  console.log(`  later loads   p50   ${figures.warm_ready_p50_ms} ms   p95 ${figures.warm_ready_p95_ms} ms   max ${figures.warm_ready_max_ms} ms`);
  console.log(`  GET /v1/services    p50 ${figures.api_p50_ms} ms   p95 ${figures.api_p95_ms} ms`);
  console.log(`  aim: under 1000 ms → ${Math.max(figures.cold_ready_ms, figures.warm_ready_p95_ms) < 1000 ? 'met' : 'missed'}`);
}
