import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Consumer } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/log.ts';
import { JobTriggers } from '../platform/job-triggers.ts';
import { createPublisher, type Publisher } from '../platform/publisher.ts';
import type { SchedulerConfig } from '../scheduler/config.ts';
import { startScheduler, type RunningScheduler } from '../scheduler/scheduler.ts';
import { schedulerTelemetry } from '../scheduler/telemetry.ts';
import { TOPICS, type JobRun } from '../schemas/topics.ts';
import { DocumentStore } from '../sql/stores/documents.ts';
import type { Job } from '../tenant-config/jobs.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { startOllamaStandIn, type OllamaStandIn } from './helpers/ollama-stand-in.ts';
import { gaussian, seededRandom } from './helpers/random.ts';
import { fixture, startStatusSource } from '../scheduler/kinds/status-page/fixtures/status-source.ts';

/**
 * The scheduler on the real stack: jobs made through the API (ClickHouse),
 * leases in Redis, run records and probe points on Kafka, the sink, detect
 * and correlate behind them. Two schedulers run side by side in this
 * process, each with its own Redis connection and producer, as two
 * processes would; "killing" one cuts both (its Redis connection closed,
 * its producer refusing), which is what the others see of a SIGKILLed
 * process: its leases stop being renewed and it records nothing more.
 * (Two scheduler processes need a ClickHouse server to share the jobs; the
 * embedded engine belongs to one process.)
 */
let p: TestPipeline;
let target: Server;
let targetUrl: string;
let health = 200;
let ollama: OllamaStandIn;
/** Every path the target was asked for. */
const pagesAsked: string[] = [];
/** A small site for the scrape and extract jobs. */
const PAGES: Record<string, string> = {
  '/robots.txt': 'User-agent: *\nDisallow: /private\n',
  '/shop/':
    '<html><head><title>Shop</title></head><body><a href="mug">Blue mug</a> <a href="/private/admin">admin</a> <a href="/shop/cup">cup</a></body></html>',
  '/shop/mug': '<html><head><title>Blue Mug</title></head><body><h1>Blue Mug</h1><p>Price: 12.50 EUR</p><script>var x = 1;</script></body></html>',
  '/shop/cup': '<html><head><title>Cup</title></head><body><p>A cup.</p></body></html>',
  '/private/admin': '<html><body>secret</body></html>',
};
let consumer: Consumer;
/** Every run record of this file's tenants, in the order Kafka gave them. */
const runs: JobRun[] = [];
const schedulers: { scheduler: RunningScheduler; redis: Redis; publisher: Publisher; kill(): void }[] = [];

const CONFIG: SchedulerConfig = {
  tickMs: 200,
  refreshMs: 500,
  graceMs: 60_000,
  leaseMs: 2000,
  concurrency: 8,
  allowLoopback: true,
  llm: { host: 'http://127.0.0.1:9', model: 'none', timeoutMs: 1000 },
};

async function addScheduler(name: string) {
  const redis = p.services.redis.duplicate();
  const publisher = await createPublisher(p.services.kafka, p.services.catalog, createLogger(`test-${name}`, 'silent'));
  let killed = false;
  const severable: Publisher = {
    ...publisher,
    publish: (kind, records) => (killed ? Promise.reject(new Error('killed')) : publisher.publish(kind, records)),
    publishAll: (batches) => (killed ? Promise.reject(new Error('killed')) : publisher.publishAll(batches)),
  };
  const store = new DocumentStore<Job>(p.services.clickhouse!, 'jobs');
  const scheduler = startScheduler({
    jobs: () => store.all(),
    redis,
    publisher: severable,
    triggers: new JobTriggers(redis),
    config: CONFIG,
    telemetry: schedulerTelemetry(new Registry()),
    log: createLogger(`test-${name}`, 'silent'),
  });
  const entry = {
    scheduler,
    redis,
    publisher,
    kill: () => {
      killed = true;
      redis.disconnect();
    },
  };
  schedulers.push(entry);
  return entry;
}

beforeAll(async () => {
  p = await startTestPipeline('scheduler', { processors: ['sink', 'detect', 'correlate'], env: { NOTIFY_ALLOW_LOOPBACK: 'true' } });
  ollama = await startOllamaStandIn();
  CONFIG.llm.host = ollama.url;
  target = createServer((req, res) => {
    pagesAsked.push(req.url ?? '');
    const page = PAGES[req.url ?? ''];
    if (page) return void res.writeHead(200, { 'content-type': req.url === '/robots.txt' ? 'text/plain' : 'text/html' }).end(page);
    res.writeHead(req.url === '/health' ? health : 404).end(health === 200 ? 'ok' : 'down');
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
  consumer = p.services.kafka.consumer({ groupId: `job-runs-reader-${p.tenants.a}` });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.jobRuns.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const run = (await p.services.catalog.decode(message.value!)) as JobRun;
      if (run.tenant === p.tenants.a || run.tenant === p.tenants.b) runs.push(run);
    },
  });
}, 180_000);

afterAll(async () => {
  for (const s of schedulers) {
    await s.scheduler.stop().catch(() => undefined);
    await s.publisher.close().catch(() => undefined);
    s.redis.disconnect();
  }
  await consumer?.disconnect();
  await ollama?.close();
  await new Promise<void>((resolve) => (target ? target.close(() => resolve()) : resolve()));
  await p?.stop();
});

const api = async (method: string, path: string, body?: unknown, key = p.keys.a) => {
  const res = await p.app.request(path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Record<string, any> };
};

const runsOf = (jobId: string) => runs.filter((r) => r.job_id === jobId);
/** Scheduled ticks each recorded once: no tick twice, and none missing between the first and the last (1-second schedule). */
function expectEachTickOnce(list: JobRun[], from: number, to: number) {
  const ticks = list.filter((r) => r.trigger !== 'manual' && r.scheduled_at >= from && r.scheduled_at <= to).map((r) => r.scheduled_at);
  expect(new Set(ticks).size, 'a tick recorded twice').toBe(ticks.length);
  const sorted = [...ticks].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!, `a tick missing after ${new Date(sorted[i - 1]!).toISOString()}`).toBe(1000);
  return sorted;
}

describe('the scheduler', () => {
  let jobId: string;

  it('two schedulers run each tick of a job exactly once; a killed one’s job goes on in the other', { timeout: 120_000 }, async () => {
    const a = await addScheduler('scheduler-a');
    const created = await api('POST', '/v1/jobs', {
      name: 'checkout health',
      schedule: '* * * * * *',
      kind: 'http_probe',
      params: { url: `${targetUrl}/health`, service: 'checkout' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    jobId = created.body.id;
    await eventually(
      async () => runsOf(jobId).length,
      (n) => n >= 3,
      30_000,
    );
    await addScheduler('scheduler-b');
    const bothFrom = Date.now() + 1000;
    await sleep(6000);
    const bothTo = Date.now() - 1000;
    // Both race for every tick; Redis gives each to one.
    expect(expectEachTickOnce(runsOf(jobId), bothFrom, bothTo).length).toBeGreaterThanOrEqual(4);
    expect(runsOf(jobId).every((r) => r.outcome === 'success' && r.items === 3)).toBe(true);

    a.kill();
    const killedAt = Date.now();
    // A's leases expire within CONFIG.leaseMs; from then on every tick is B's.
    await eventually(
      async () => runsOf(jobId).filter((r) => r.scheduled_at > killedAt + CONFIG.leaseMs),
      (l) => l.length >= 4,
      30_000,
    );
    const after = runsOf(jobId).filter((r) => r.scheduled_at > killedAt + CONFIG.leaseMs + 1000);
    expect(new Set(after.map((r) => r.scheduler)).size, 'runs after the kill came from more than the survivor').toBe(1);
    expectEachTickOnce(runsOf(jobId), bothFrom, Date.now());
  });

  it('pause stops the ticks, a manual run still runs once, resume starts them again', { timeout: 60_000 }, async () => {
    const paused = await api('POST', `/v1/jobs/${jobId}/pause`);
    expect(paused.body).toMatchObject({ id: jobId, enabled: false });
    await sleep(CONFIG.refreshMs + 2 * CONFIG.tickMs + 1000); // the schedulers read the change, and a run in flight ends
    const before = runsOf(jobId).length;
    await sleep(3000);
    expect(runsOf(jobId).length, 'a paused job ran').toBe(before);

    const trigger = await api('POST', `/v1/jobs/${jobId}/trigger`);
    expect(trigger.status).toBe(202);
    const manual = await eventually(
      async () => runsOf(jobId).filter((r) => r.run_id === trigger.body.run_id),
      (l) => l.length >= 1,
      15_000,
    );
    expect(manual[0]).toMatchObject({ trigger: 'manual', outcome: 'success', scheduled_at: trigger.body.requested_at });
    await sleep(2000);
    expect(runsOf(jobId).filter((r) => r.run_id === trigger.body.run_id)).toHaveLength(1);

    const resumedAt = Date.now();
    expect((await api('POST', `/v1/jobs/${jobId}/resume`)).body).toMatchObject({ enabled: true });
    const resumed = await eventually(
      async () => runsOf(jobId).filter((r) => r.trigger !== 'manual' && r.scheduled_at > resumedAt),
      (l) => l.length >= 2,
      15_000,
    );
    // Ticks missed while paused are not caught up.
    expect(resumed.every((r) => r.trigger === 'schedule')).toBe(true);
  });

  it('GET /v1/jobs/{id}/runs lists the runs from ClickHouse with counts; another tenant sees no job', { timeout: 60_000 }, async () => {
    const recorded = runsOf(jobId).length;
    const listed = await eventually(
      async () => (await api('GET', `/v1/jobs/${jobId}/runs?limit=1000`)).body,
      (b) => b.counts.total >= recorded,
      30_000,
    );
    const ok = listed.items.find((i: JobRun) => i.outcome === 'success');
    expect(ok).toMatchObject({ job_id: jobId, kind: 'http_probe', trigger: 'schedule', items: 3, details: { success: true, status: 200 } });
    expect(ok.ended_at).toBeGreaterThanOrEqual(ok.started_at);
    expect(listed.items.map((i: JobRun) => i.started_at)).toEqual(listed.items.map((i: JobRun) => i.started_at).sort((x: number, y: number) => y - x));
    // Ticks due while the killed scheduler's running lock had not yet expired are skipped, and say so.
    for (const skipped of listed.items.filter((i: JobRun) => i.outcome === 'skipped')) expect(skipped.error).toMatch(/overlap: skip/);
    expect(listed.counts.success + listed.counts.skipped).toBe(listed.counts.total);
    expect(listed.counts.success).toBeGreaterThan(10);
    expect((await api('GET', `/v1/jobs/${jobId}/runs`, undefined, p.keys.b)).status).toBe(404);
    expect((await api('POST', `/v1/jobs/${jobId}/trigger`, undefined, p.keys.b)).status).toBe(404);
  });

  it('a probe of a failing /health writes its points and fires ProbeFailed after 3 failures; with an anomaly, an incident for the service', {
    timeout: 120_000,
  }, async () => {
    // probe_success has been 1 every second since the first test. A series that never moved is one the detector
    // rightly waits on (its first move is not yet surprising), so the probe's own alert is its signal; an incident
    // needs two sources (CORRELATE_MIN_SIGNALS), here the alert and a latency anomaly.
    const success = () =>
      p.rows<{ value: number }>(
        `SELECT value FROM metric_points FINAL WHERE tenant = {t:String} AND metric_name = 'probe_success' ORDER BY timestamp DESC LIMIT 1`,
        { t: p.tenants.a },
      );
    await eventually(success, (r) => r[0]?.value === 1, 30_000);
    health = 503;
    await eventually(success, (r) => r[0]?.value === 0, 30_000);
    // …and checkout's latency jumps with it: the anomaly the incident needs beside the probe's alert (two sources).
    const r = seededRandom(7);
    const now = Date.now();
    const latency = (at: number, value: number) => ({ timestamp: at, metric_name: 'http_request_duration_ms', value, labels: { service: 'checkout' } });
    const steady = Array.from({ length: 180 }, (_, i) => latency(now - 31 * 60_000 + i * 10_000, 100 + 5 * gaussian(r)));
    const slow = Array.from({ length: 12 }, (_, i) => latency(now - 30_000 + i * 5000, 1500 + 50 * gaussian(r)));
    expect((await p.post('/v1/metrics', steady)).status).toBe(202);
    expect((await p.post('/v1/metrics', slow)).status).toBe(202);
    const incidents = await eventually(
      () =>
        p.rows<{ service: string; signals: string }>(`SELECT service, signals FROM incidents FINAL WHERE tenant = {t:String}`, {
          t: p.tenants.a,
        }),
      (r) => r.length > 0,
      60_000,
    );
    expect(incidents[0]!.service).toBe('checkout');
    const signals = JSON.parse(incidents[0]!.signals) as { kind: string; summary: string }[];
    expect(signals.find((s) => s.kind === 'alert')?.summary).toMatch(
      /^alert ProbeFailed firing \(critical\): GET http:\/\/127\.0\.0\.1:\d+\/health failed 3 times in a row: status 503 is not 2xx/,
    );
    const statuses = await p.rows<{ value: number }>(
      `SELECT value FROM metric_points FINAL WHERE tenant = {t:String} AND metric_name = 'probe_http_status' ORDER BY timestamp DESC LIMIT 1`,
      { t: p.tenants.a },
    );
    expect(statuses[0]!.value).toBe(503);
    health = 200;
  });

  it('a status page job: the provider’s outage becomes changes, the current state, and an incident for the dependent service naming the provider', {
    timeout: 120_000,
  }, async () => {
    const source = await startStatusSource();
    try {
      source.serve('/api/v2/summary.json', fixture('statuspage-operational.json'), 'application/json');
      const created = await api('POST', '/v1/jobs', {
        name: 'ExamplePay status',
        schedule: '* * * * * *',
        kind: 'status_page',
        params: {
          provider: 'ExamplePay',
          url: source.url('/'),
          format: 'statuspage',
          dependents: [
            { service: 'payments', components: ['Card Payments'] },
            { service: 'ledger', components: ['Payouts'] },
          ],
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const status = async () => (await api('GET', '/v1/external-status?provider=ExamplePay')).body.providers;
      // The first run records every component's state, so the current state is complete from the start.
      const first = await eventually(status, (providers) => providers[0]?.subjects.length >= 6, 30_000);
      expect(first[0]).toMatchObject({ provider: 'ExamplePay', degraded: false });
      // Later runs ask with the validators they were given; an unchanged page answers 304 and changes nothing.
      await eventually(
        async () => source.requests.filter((r) => r.status === 304).length,
        (n) => n >= 2,
        15_000,
      );

      source.serve(
        '/api/v2/summary.json',
        fixture('statuspage-degraded.json').replaceAll('degraded_performance', 'major_outage').replaceAll('"impact": "minor"', '"impact": "major"'),
        'application/json',
      );
      const degraded = await eventually(status, (providers) => providers[0]?.degraded === true, 30_000);
      const card = degraded[0].subjects.find((x: { subject_name: string }) => x.subject_name === 'Card Payments');
      expect(card).toMatchObject({ subject_kind: 'component', status: 'major_outage', degraded: true, impact: 'critical', services: ['payments'] });

      // A major outage of a component payments depends on opens an incident for payments, naming the provider; ledger's component is fine.
      const incidents = await eventually(
        () =>
          p.rows<{ service: string; signals: string }>(
            `SELECT service, signals FROM incidents FINAL WHERE tenant = {t:String} AND service IN ('payments', 'ledger')`,
            { t: p.tenants.a },
          ),
        (r) => r.length > 0,
        60_000,
      );
      expect(incidents.map((i) => i.service)).toEqual(['payments']);
      const signals = JSON.parse(incidents[0]!.signals) as { kind: string; summary: string }[];
      expect(signals.filter((x) => x.kind === 'dependency').map((x) => x.summary)).toContainEqual(
        expect.stringMatching(/^ExamplePay: Card Payments major_outage/),
      );

      source.serve('/api/v2/summary.json', fixture('statuspage-operational.json'), 'application/json');
      await eventually(status, (providers) => providers[0]?.degraded === false, 30_000);
      const changes = await p.rows<{ subject_name: string; from_status: string | null; to_status: string }>(
        `SELECT subject_name, from_status, to_status FROM external_status_changes FINAL WHERE tenant = {t:String} AND subject_name = 'Card Payments' AND service = 'payments' ORDER BY at`,
        { t: p.tenants.a },
      );
      expect(changes.map((c) => [c.from_status, c.to_status])).toEqual([
        [null, 'operational'],
        ['operational', 'major_outage'],
        ['major_outage', 'operational'],
      ]);
      await api('DELETE', `/v1/jobs/${created.body.id}`);
    } finally {
      await source.close();
    }
  });

  it('a scrape job, run by hand: robots.txt honoured, links followed, pages stored with their text', { timeout: 60_000 }, async () => {
    const created = await api('POST', '/v1/jobs', {
      name: 'shop crawl',
      schedule: '0 0 1 1 *', // yearly: this test runs it by hand
      kind: 'scrape',
      params: { start_urls: [`${targetUrl}/shop/`], max_depth: 1, rate_per_domain: 10 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const run = await api('POST', `/v1/jobs/${created.body.id}/trigger`);
    const recorded = await eventually(
      async () => runs.filter((r) => r.run_id === run.body.run_id),
      (l) => l.length === 1,
      30_000,
    );
    expect(recorded[0]).toMatchObject({ outcome: 'success', trigger: 'manual', items: 3 });
    expect(JSON.parse(recorded[0]!.details)).toMatchObject({ pages: 3, skipped_robots: 1 });
    expect(pagesAsked).not.toContain('/private/admin');
    const pages = await eventually(
      () =>
        p.rows<{ url: string; title: string; text: string; links: string[] }>(
          `SELECT url, title, text, links FROM scraped_pages FINAL WHERE tenant = {t:String} AND job_id = {j:String} ORDER BY url`,
          { t: p.tenants.a, j: created.body.id },
        ),
      (r) => r.length === 3,
      30_000,
    );
    expect(pages.map((x) => x.url)).toEqual([`${targetUrl}/shop/`, `${targetUrl}/shop/cup`, `${targetUrl}/shop/mug`]);
    const mug = pages.find((x) => x.url.endsWith('/mug'))!;
    expect(mug.title).toBe('Blue Mug');
    expect(mug.text).toContain('Price: 12.50 EUR');
    expect(mug.text).not.toContain('var x');
    expect(pages[0]!.links).toEqual(expect.arrayContaining([`${targetUrl}/shop/mug`, `${targetUrl}/shop/cup`, `${targetUrl}/private/admin`]));
  });

  it('an extract job through the model stores its result with a quality score; a malformed answer is stored as such, with the raw text', {
    timeout: 60_000,
  }, async () => {
    const created = await api('POST', '/v1/jobs', {
      name: 'mug price',
      schedule: '0 0 1 1 *',
      kind: 'extract',
      params: {
        url: `${targetUrl}/shop/mug`,
        schema: { type: 'object', properties: { name: { type: 'string' }, price: { type: 'number' } }, required: ['name', 'price'] },
        instructions: 'The product on the page and its price.',
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const jobId = created.body.id;
    const extractions = (n: number) =>
      eventually(
        async () => (await api('GET', `/v1/extractions?job_id=${jobId}`)).body.items,
        (items) => items.length >= n,
        30_000,
      );

    ollama.script({ kind: 'answer', body: { result: { name: 'Blue Mug', price: 12.5 }, confidence: 0.9 } });
    await api('POST', `/v1/jobs/${jobId}/trigger`);
    const [ok] = await extractions(1);
    expect(ok).toMatchObject({ status: 'ok', result: { name: 'Blue Mug', price: 12.5 }, url: `${targetUrl}/shop/mug`, error: null });
    expect(ok.quality).toBeGreaterThan(0.8);
    expect(ok.quality_details).toMatchObject({ schema_valid: 1, required_filled: 1, confidence: 0.9 });
    // What the model was asked: the page's text, and the job's schema as its format.
    const asked = ollama.asked().at(-1)!.body!;
    expect(JSON.stringify(asked.format)).toContain('"price"');
    expect(JSON.stringify(asked.messages)).toContain('Price: 12.50 EUR');

    ollama.script({ kind: 'text', content: 'The mug costs twelve euros fifty.' });
    await api('POST', `/v1/jobs/${jobId}/trigger`);
    const [bad] = await extractions(2);
    expect(bad).toMatchObject({ status: 'invalid', result: null, raw_answer: 'The mug costs twelve euros fifty.' });
    expect(bad.error).toBeTruthy();
  });
});
