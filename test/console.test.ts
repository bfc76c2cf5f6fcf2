import { randomBytes, randomUUID } from 'node:crypto';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchBrowser, screenshot, type TestBrowser, type WatchedPage } from './helpers/browser.ts';
import { eventually, listen, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { gaussian, seededRandom } from './helpers/random.ts';
import { startRecorder, type Recorder } from './helpers/recorder.ts';

/**
 * The console in Debian's chromium, on the real pipeline behind a real port:
 * sign in, watch the product brief's scenario (a deployment, then slow
 * checkout and ERROR logs, and the payment provider's status page going
 * degraded) become an incident that appears on the open incidents page
 * without a reload, open it (timeline with the deployment line drawn on the
 * canvas, the provider's status), say the analysis helped and find that
 * stored, approve the rollback a policy proposed, edit an alert rule. A second tab signed in with the other tenant's key,
 * open the whole time, sees none of it. Each page is screenshotted to
 * test-results/console/.
 */
let p: TestPipeline;
let gateway: Awaited<ReturnType<typeof listen>>;
let browser: TestBrowser;
let github: Recorder;
const MIN = 60_000;
const DEPLOYMENT_RGB = [0x6d, 0x28, 0xd9]; // console/charts.js COLORS.deployment

beforeAll(async () => {
  github = await startRecorder(); // where the rollback would be dispatched; nothing executes here (no execute processor)
  p = await startTestPipeline('console', {
    processors: ['sink', 'rollup', 'detect', 'error-rate', 'correlate', 'analyze', 'remediate'],
    env: {
      // Nothing listens there: the analyst falls back to its rules at once.
      OLLAMA_HOST: 'http://127.0.0.1:9',
      CONSOLE_LIVE_POLL_MS: '500',
      AUTOPILOT_SECRET_KEY: randomBytes(32).toString('base64'),
      NOTIFY_ALLOW_LOOPBACK: 'true',
      REMEDIATE_REFRESH_SECONDS: '0.5',
    },
  });
  gateway = await listen(p.app);
  browser = await launchBrowser(inject('debianTools').chromium);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await p?.stop();
  await github?.close();
});

async function playScenario(key: string, service: string, T: number, version: string): Promise<void> {
  const r = seededRandom(11);
  const point = (at: number, value: number) => ({ timestamp: at, metric_name: 'http_request_duration_ms', value, labels: { service } });
  const steady = Array.from({ length: 180 }, (_, i) => point(T - 30 * MIN + i * 10_000, 100 + 5 * gaussian(r)));
  expect((await p.post('/v1/deployments', { timestamp: T - 60 * MIN, service, version: 'v2.3.9', status: 'succeeded' }, key)).status).toBe(202);
  expect((await p.post('/v1/metrics', steady, key)).status).toBe(202);
  expect((await p.post('/v1/deployments', { timestamp: T, service, version, status: 'succeeded' }, key)).status).toBe(202);
  const slow = Array.from({ length: 12 }, (_, i) => point(T + (i + 1) * 10_000, 1500 + 50 * gaussian(r)));
  expect((await p.post('/v1/metrics', slow, key)).status).toBe(202);
  const logs = [
    ...Array.from({ length: 90 }, (_, i) => ({ timestamp: T - 30 * MIN + i * 20_000, level: 'info', message: 'GET /cart 200', service })),
    ...Array.from({ length: 20 }, (_, i) => ({ timestamp: T + 15_000 + i * 2000, level: 'error', message: `upstream timeout (${i})`, service })),
    { timestamp: T + 3 * MIN, level: 'info', message: 'GET /cart 200', service },
  ];
  expect((await p.post('/v1/logs', logs, key)).status).toBe(202);
  // The payment provider's status page, as the scheduler's status_page job reports a change (scheduler/kinds/status-page).
  await p.publisher.publish('externalStatus', [
    {
      change_id: randomUUID(),
      tenant: p.tenants.a,
      service,
      job_id: 'stripe-status',
      provider: 'Stripe',
      subject_kind: 'component',
      subject_id: 'api',
      subject_name: 'Payments API',
      from_status: 'operational',
      to_status: 'degraded_performance',
      degraded: true,
      impact: 'minor',
      message: 'Elevated error rates',
      url: 'https://status.stripe.com',
      at: T + 20_000,
    },
  ]);
}

/** Rollback on a suspect deployment, to approve by hand: what a newcomer sets up first (README, Supervised remediation). */
async function rollbackPolicy(): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await p.post(path, body);
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { id: string };
  };
  const action = await post('/v1/actions', {
    name: 'rollback',
    kind: 'github_workflow',
    risk: 'medium',
    api_url: github.url,
    repo: 'acme/shop',
    workflow: 'rollback.yml',
    ref: 'main',
    inputs: { service: '{{service}}', version: '{{previous_version}}' },
    token: 'ghp_console_test_token',
  });
  await post('/v1/remediation-policies', {
    name: 'roll back a suspect deployment',
    on: 'incident',
    match: { services: ['checkout'], suspect_deployment: true },
    action_id: action.id,
    mode: 'approve',
  });
  await new Promise((resolve) => setTimeout(resolve, 1000)); // remediate reads policies every 0.5 s
}

/** Signs in by keyboard alone: the key field has focus on arrival, Enter submits. */
async function signIn(key: string): Promise<WatchedPage> {
  const w = await browser.open(gateway.url);
  await w.page.waitForSelector('#api-key');
  expect(await w.page.evaluate(() => document.activeElement?.id)).toBe('api-key');
  await w.page.keyboard.type(key);
  await w.page.keyboard.press('Enter');
  await w.page.waitForSelector('main[data-ready="services"]');
  return w;
}

const ready = (page: Page, name: string) => page.waitForSelector(`main[data-ready="${name}"]`, { timeout: 30_000 });

async function go(page: Page, hash: string, name: string): Promise<void> {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  try {
    await ready(page, name);
  } catch (err) {
    // Where the page is instead, for whoever reads the failure.
    const state = await page.evaluate(() => ({
      hash: location.hash,
      ready: document.querySelector('main')?.dataset.ready,
      text: document.querySelector('main')?.textContent?.slice(0, 300),
    }));
    throw new Error(`${hash} never became ready: ${JSON.stringify(state)}`, { cause: err });
  }
}

/**
 * Controls a screen reader could not name: inputs, selects and textareas
 * without a label, buttons and links without text or aria-label, charts
 * without a text alternative. Checked on every page the test visits.
 */
async function unnamed(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const missing: string[] = [];
    for (const el of document.querySelectorAll<HTMLInputElement>('input, select, textarea')) {
      if (!el.labels?.length && !el.getAttribute('aria-label')) missing.push(`${el.tagName.toLowerCase()}#${el.id}`);
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
      if (!(el.getAttribute('aria-label') || el.textContent?.trim())) missing.push(el.outerHTML.slice(0, 80));
    }
    for (const el of document.querySelectorAll('.chart')) {
      if (el.getAttribute('role') !== 'img' || !el.getAttribute('aria-label')) missing.push(`chart ${el.outerHTML.slice(0, 60)}`);
    }
    return missing;
  });
}

/**
 * Text whose contrast with what is behind it is under WCAG AA: 4.5:1, or 3:1
 * for large text (24 px, or 18.66 px bold). The background is the first
 * opaque one up the tree; text over a canvas or an image is not judged.
 */
async function lowContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) => {
      const lin = (v: number) => (v / 255 <= 0.03928 ? v / 255 / 12.92 : ((v / 255 + 0.055) / 1.055) ** 2.4);
      return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
    };
    const background = (el: Element | null): number[] => {
      for (; el; el = el.parentElement) {
        const c = rgb(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! > 0.9)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const failing: string[] = [];
    for (const el of document.querySelectorAll('body *')) {
      const text = [...el.childNodes]
        .filter((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim())
        .map((n) => n.textContent!.trim())
        .join(' ');
      if (!text || el.closest('.uplot, [hidden], .sr-only') || (el as HTMLElement).offsetParent === null) continue;
      const style = getComputedStyle(el);
      const [l1, l2] = [luminance(rgb(style.color)), luminance(background(el))].sort((a, b) => b - a);
      const ratio = (l1! + 0.05) / (l2! + 0.05);
      const size = Number.parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) failing.push(`${text.slice(0, 40)}: ${ratio.toFixed(2)}`);
    }
    return failing;
  });
}

/** Changes the document in the configuration page's JSON editor as a person would, and saves it. */
async function editJson(page: Page, change: (doc: Record<string, unknown>) => void): Promise<void> {
  const current = JSON.parse(await page.$eval('#document-json', (el) => (el as HTMLTextAreaElement).value));
  change(current);
  await page.$eval('#document-json', (el, text) => ((el as HTMLTextAreaElement).value = text), JSON.stringify(current, null, 2));
  await page.click('form button[type=submit]');
}

/** What the chart's draw hook says it drew (console/charts.js), once it says so. */
async function drawn(page: Page, selector: string, kind: string): Promise<{ kind: string; x: number; label?: string }[]> {
  await page.waitForFunction(
    (sel, k) => JSON.parse(document.querySelector(sel)?.getAttribute('data-drawn') ?? '[]').some((d: { kind: string }) => d.kind === k),
    { timeout: 60_000 },
    selector,
    kind,
  );
  return page.$eval(selector, (el) => JSON.parse(el.getAttribute('data-drawn')!));
}

/** How many pixels of the column at CSS x (±1) in the chart's canvas are the deployment colour, exactly (antialiased blends of the other lines are not). */
async function deploymentPixels(page: Page, selector: string, x: number): Promise<number> {
  return page.$eval(
    `${selector} canvas`,
    (canvas, cssX, rgb) => {
      const c = canvas as HTMLCanvasElement;
      const ratio = c.width / c.getBoundingClientRect().width;
      const data = c.getContext('2d')!.getImageData(Math.round((cssX as number) * ratio) - 1, 0, 3, c.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b] = rgb as number[];
        if (Math.abs(data[i]! - r!) < 12 && Math.abs(data[i + 1]! - g!) < 12 && Math.abs(data[i + 2]! - b!) < 12 && data[i + 3]! > 200) n++;
      }
      return n;
    },
    x,
    DEPLOYMENT_RGB,
  );
}

describe('the console', () => {
  let a: WatchedPage;
  let b: WatchedPage;
  let incidentId: string;

  it('refuses a key it does not know and signs in with a good one', { timeout: 60_000 }, async () => {
    const w = await browser.open(gateway.url);
    await w.page.waitForSelector('#api-key');
    expect(await unnamed(w.page)).toEqual([]);
    expect(await lowContrast(w.page)).toEqual([]);
    await screenshot(w.page, 'sign-in');
    await w.page.type('#api-key', 'not-a-key');
    await w.page.click('button[type=submit]');
    await w.page.waitForSelector('.sign-in [role=alert]');
    expect(await w.page.$eval('.sign-in [role=alert]', (e) => e.textContent)).toContain('not accepted');
    expect(await w.page.evaluate(() => sessionStorage.length)).toBe(0);
    await w.page.close();

    a = await signIn(p.keys.a);
    b = await signIn(p.keys.b);
    expect(await a.page.$eval('.tenant', (e) => e.textContent)).toContain(p.tenants.a);
    // The key is in this tab's sessionStorage only: nothing persistent holds it.
    expect(await a.page.evaluate(() => localStorage.length)).toBe(0);
    expect(await a.page.evaluate(() => document.cookie)).toBe('');
  });

  it('shows the scenario incident as it opens, without a reload', { timeout: 180_000 }, async () => {
    await go(a.page, '#/incidents?status=open', 'incidents');
    await go(b.page, '#/incidents', 'incidents');
    await a.page.waitForFunction(() => document.querySelector('.live')?.getAttribute('data-state') === 'open', { timeout: 30_000 });
    expect(await a.page.$$('tr[data-incident]')).toHaveLength(0);
    // A page load would lose this.
    await a.page.evaluate(() => {
      (window as unknown as { stayed: boolean }).stayed = true;
    });

    await rollbackPolicy();
    await playScenario(p.keys.a, 'checkout', Date.now() - 5 * MIN, 'v2.4.0');

    const row = await a.page.waitForSelector('tr[data-incident]', { timeout: 120_000 });
    incidentId = (await row!.evaluate((r) => r.getAttribute('data-incident')))!;
    expect(await a.page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    expect(await row!.evaluate((r) => r.textContent)).toContain('checkout');
    // The suspect deployment is known once the correlator has all three signals; the row follows live.
    await a.page.waitForFunction(() => document.querySelector('tr[data-incident]')?.textContent?.includes('v2.4.0'), { timeout: 60_000 });
    expect(await unnamed(a.page)).toEqual([]);
    expect(await lowContrast(a.page)).toEqual([]);
    await screenshot(a.page, 'incidents');
  });

  it('opens the incident: timeline with the deployment line, analysis, feedback stored', { timeout: 120_000 }, async () => {
    await a.page.click(`tr[data-incident="${incidentId}"] a`);
    await ready(a.page, 'incident');
    expect(await a.page.$eval('h1', (e) => e.textContent)).toContain('checkout');

    const marks = await drawn(a.page, '#timeline', 'deployment');
    const deployment = marks.find((m) => m.kind === 'deployment')!;
    expect(deployment.label).toContain('v2.4.0');
    expect(marks.some((m) => m.kind === 'anomaly')).toBe(true);
    // The line is on the canvas where the chart says it is, and not at the chart's left edge.
    expect(await deploymentPixels(a.page, '#timeline', deployment.x)).toBeGreaterThan(40);
    expect(await deploymentPixels(a.page, '#timeline', deployment.x - 60), JSON.stringify(marks)).toBe(0);

    // The analyst (on its rules: no model here) answers; the page picks the analysis up live.
    await a.page.waitForFunction(() => document.querySelector('#analysis-title')?.parentElement?.textContent?.includes('Was this analysis helpful?'), {
      timeout: 60_000,
    });
    expect(await a.page.$eval('#analysis-title', (e) => e.parentElement!.textContent)).toMatch(/Rules/);
    await a.page.type('#feedback-comment', 'pointed at the right deploy');
    const [helpful] = await a.page.$$('xpath/.//button[contains(., "Helpful") and not(contains(., "Not"))]');
    await helpful!.click();
    await a.page.waitForSelector('.notice');
    // Leaving at once: the incident page reloads itself 1.5 s after feedback, which must not come back over the next page.
    await go(a.page, '#/services', 'services');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await a.page.$eval('main h1', (e) => e.textContent)).toBe('Services');
    await go(a.page, `#/incidents/${incidentId}`, 'incident');
    const stored = await eventually(
      () =>
        p.rows<{ helpful: boolean; comment: string }>(
          'SELECT helpful, comment FROM incident_feedback WHERE tenant = {t:String} AND incident_id = {id:String}',
          {
            t: p.tenants.a,
            id: incidentId,
          },
        ),
      (rows) => rows.length > 0,
    );
    expect(stored).toEqual([{ helpful: true, comment: 'pointed at the right deploy' }]);

    // The provider's trouble: a signal in the timeline's lane and its status beside the analysis.
    await drawn(a.page, '#timeline', 'dependency');
    await a.page.waitForFunction(() => document.querySelector('#external-title')?.parentElement?.textContent?.includes('Payments API'), { timeout: 30_000 });
    expect(await a.page.$eval('#external-title', (e) => e.parentElement!.textContent)).toMatch(
      /Stripe\s*degraded.*Payments API: degraded_performance \(minor\)/s,
    );

    // The policy's proposal shows up on the page as remediate makes it; approved here, as alice.
    const proposal = await a.page.waitForSelector('.proposal[data-proposal]', { timeout: 60_000 });
    const proposalId = (await proposal!.evaluate((e) => e.getAttribute('data-proposal')))!;
    await a.page.type('#approver', 'alice');
    expect(await unnamed(a.page)).toEqual([]);
    expect(await lowContrast(a.page)).toEqual([]);
    await screenshot(a.page, 'incident');
    await a.page.click(`.proposal[data-proposal="${proposalId}"] button.primary`);
    await a.page.waitForFunction(
      (id) => document.querySelector(`.proposal[data-proposal="${id}"] .badge`)?.textContent === 'approved',
      { timeout: 30_000 },
      proposalId,
    );
    const decided = await p.app.request(`/v1/proposals/${proposalId}`, { headers: { authorization: `Bearer ${p.keys.a}` } });
    expect(await decided.json()).toMatchObject({ status: 'approved', decided_by: 'api:alice', incident_id: incidentId });
  });

  it('shows services with their charts and the deployment, and filters them', { timeout: 60_000 }, async () => {
    // What the three charts draw from, once the sink has written the scenario's logs (the incident can come first):
    // its slow minutes, its ERROR burst, its traffic.
    type Overview = { services: { service: string; series: Record<string, (number | null)[]> }[] };
    const checkout = async () => {
      const res = await p.app.request('/v1/services?minutes=60', { headers: { authorization: `Bearer ${p.keys.a}` } });
      return ((await res.json()) as Overview).services.find((s) => s.service === 'checkout')!.series;
    };
    const peak = (values: (number | null)[]) => Math.max(...values.filter((v) => v !== null));
    const series = await eventually(checkout, (s) => peak(s.error_rate!) > 0.5 && peak(s.p99!) > 1000);
    expect(series.throughput!.filter((v) => v !== null).length).toBeGreaterThan(20);

    await go(a.page, '#/services', 'services');
    await a.page.waitForSelector('article[data-service="checkout"] .chart canvas');
    const marks = await drawn(a.page, 'article[data-service="checkout"] .chart', 'deployment');
    expect(marks[0]!.label).toBe('v2.4.0');
    const card = await a.page.$eval('article[data-service="checkout"]', (e) => e.textContent);
    expect(card).toMatch(/1 open/);
    expect(card).toMatch(/Latency · p99 1\.\d+ s/);
    expect(card).toMatch(/Error rate · \d+ %/);
    expect(await unnamed(a.page)).toEqual([]);
    expect(await lowContrast(a.page)).toEqual([]);
    await screenshot(a.page, 'services');
    await a.page.type('#service-search', 'no-such-service');
    await a.page.waitForFunction(() => document.querySelector('main')?.textContent?.includes('No service matches.'));
    expect(await a.page.$$('article[data-service]')).toHaveLength(0);
  });

  it('edits an alert rule, and shows what the API refused', { timeout: 60_000 }, async () => {
    const rule = {
      name: 'checkout p99',
      kind: 'threshold',
      service: 'checkout',
      metric: 'http_request_duration_ms',
      field: 'p99',
      op: 'gt',
      value: 800,
      for: '1m',
    };
    const created = await p.post('/v1/alert-rules', rule);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    await go(a.page, '#/config/rules', 'config');
    await a.page.click(`tr[data-id="${id}"] button`);
    await a.page.waitForSelector('#document-json');
    const edit = (change: (rule: Record<string, unknown>) => void) => editJson(a.page, change);
    await edit((r) => {
      r.op = 'sideways';
    });
    await a.page.waitForSelector('form [role=alert]');
    expect(await a.page.$eval('form [role=alert]', (e) => e.textContent)).toMatch(/op/);
    await edit((r) => {
      r.op = 'gt';
      r.value = 1200;
    });
    await a.page.waitForSelector(`tr[data-id="${id}"]`);
    expect(await a.page.$eval(`tr[data-id="${id}"]`, (e) => e.textContent)).toContain('1200');
    expect(await unnamed(a.page)).toEqual([]);
    expect(await lowContrast(a.page)).toEqual([]);
    await screenshot(a.page, 'config-rules');
    const saved = await p.app.request(`/v1/alert-rules/${id}`, { headers: { authorization: `Bearer ${p.keys.a}` } });
    expect(await saved.json()).toMatchObject({ value: 1200, op: 'gt' });
  });

  it('adds a notification target, shows it with its secrets hidden, and refuses a placeholder saved back', { timeout: 60_000 }, async () => {
    await go(a.page, '#/config/targets', 'config');
    const [add] = await a.page.$$('xpath/.//button[text()="New notification target"]');
    await add!.click();
    await a.page.waitForSelector('#document-json');
    await editJson(a.page, (t) => {
      for (const k of Object.keys(t)) delete t[k];
      Object.assign(t, { name: 'ops webhook', kind: 'webhook', url: 'https://hooks.example.com/autopilot/s3cret-path', headers: { 'X-Token': 'tok-123' } });
    });
    await a.page.waitForFunction(() => document.querySelector('main table')?.textContent?.includes('ops webhook'));
    const row = await a.page.$eval('main table tbody tr', (e) => e.textContent);
    expect(row).toContain('https://hooks.example.com/');
    expect(row).not.toContain('s3cret-path');
    // Editing shows the placeholders; saving them back is refused, in the API's words, and changes nothing.
    await a.page.click('main table tbody tr button');
    await a.page.waitForSelector('#document-json');
    expect(await a.page.$eval('#document-json', (el) => (el as HTMLTextAreaElement).value)).not.toMatch(/s3cret|tok-123/);
    await editJson(a.page, (t) => {
      t.name = 'ops webhook (renamed)';
    });
    await a.page.waitForSelector('form [role=alert]');
    expect(await a.page.$eval('form', (e) => e.textContent)).toMatch(/placeholder for a secret/);
    const targets = await p.app.request('/v1/notification-targets', { headers: { authorization: `Bearer ${p.keys.a}` } });
    expect(((await targets.json()) as { items: { name: string }[] }).items.map((t) => t.name)).toEqual(['ops webhook']);
  });

  it('shows prompts (versions, diff, tags) and an experiment report', { timeout: 60_000 }, async () => {
    const version = (template: string, changelog: string) => p.post('/v1/prompts/incident-analysis/versions', { template, changelog });
    expect((await version('Find the root cause.\n{{context}}', 'first')).status).toBe(201);
    expect((await version('Find the root cause. Name the deployment if it is the cause.\n{{context}}', 'ask about deployments')).status).toBe(201);
    const experiment = await p.post('/v1/experiments', {
      name: 'deployment hint',
      prompt: 'incident-analysis',
      variants: [
        { name: 'control', prompt_version: 1, weight: 50 },
        { name: 'hint', prompt_version: 2, weight: 50 },
      ],
      min_sample: 10,
    });
    expect(experiment.status).toBe(201);

    await go(a.page, '#/config/prompts', 'config');
    const [open] = await a.page.$$('xpath/.//button[text()="incident-analysis"]');
    await open!.click();
    await a.page.waitForSelector('#diff-from');
    const [showDiff] = await a.page.$$('xpath/.//button[text()="Show diff"]');
    await showDiff!.click();
    await a.page.waitForSelector('pre.diff .add');
    expect(await a.page.$$eval('pre.diff .add', (lines) => lines.map((l) => l.textContent))).toEqual([
      '+Find the root cause. Name the deployment if it is the cause.\n',
    ]);
    expect(await a.page.$$eval('pre.diff .del', (lines) => lines.map((l) => l.textContent))).toEqual(['-Find the root cause.\n']);
    await a.page.click('button[aria-label="Show the template of v1"]');
    await a.page.waitForFunction(() => document.querySelector('pre[aria-label="Template"]')?.textContent === 'Find the root cause.\n{{context}}');
    await a.page.select('#tag-version', '2');
    await a.page.click('form.toolbar button[type=submit]');
    await a.page.waitForFunction(() => document.querySelector('main')?.textContent?.includes('production → v2'));
    const tags = await p.app.request('/v1/prompts/incident-analysis', { headers: { authorization: `Bearer ${p.keys.a}` } });
    expect(((await tags.json()) as { tags: Record<string, number> }).tags).toEqual({ production: 2 });
    // A new version written here, from the latest template (the form starts with it).
    await a.page.waitForFunction(() => (document.querySelector('#version-template') as HTMLTextAreaElement | null)?.value.includes('Name the deployment'));
    await a.page.$eval('#version-template', (el) => {
      (el as HTMLTextAreaElement).value += '\nAnswer in two sentences.';
    });
    await a.page.type('#version-changelog', 'shorter answers');
    await a.page.click('form[aria-labelledby="version-title"] button[type=submit]');
    await a.page.waitForFunction(() => document.querySelector('table[aria-label="Versions of incident-analysis"]')?.textContent?.includes('shorter answers'));
    await a.page.waitForFunction(() => [...document.querySelectorAll('pre.diff .add')].some((l) => l.textContent === '+Answer in two sentences.\n'));
    const v3 = await p.app.request('/v1/prompts/incident-analysis/versions/3', { headers: { authorization: `Bearer ${p.keys.a}` } });
    expect(await v3.json()).toMatchObject({
      version: 3,
      changelog: 'shorter answers',
      template: expect.stringMatching(/deployment if it is the cause\.\n\{\{context\}\}\nAnswer in two sentences\.$/),
    });
    expect(await unnamed(a.page)).toEqual([]);
    expect(await lowContrast(a.page)).toEqual([]);
    await screenshot(a.page, 'config-prompts');

    await go(a.page, '#/config/experiments', 'config');
    const [report] = await a.page.$$('xpath/.//button[text()="deployment hint"]');
    await report!.click();
    await a.page.waitForSelector('table[aria-label="Experiment report"]');
    const rows = await a.page.$$eval('table[aria-label="Experiment report"] tbody tr', (trs) => trs.map((tr) => tr.textContent));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('control (control)');
    expect(rows[1]).toContain('not enough data');
    await screenshot(a.page, 'config-experiments');
    const [stop] = await a.page.$$('xpath/.//button[text()="Stop the experiment"]');
    await stop!.click();
    await a.page.waitForFunction(() => document.querySelector('main h2 .badge')?.textContent === 'stopped');
    const stopped = await p.app.request(`/v1/experiments/${((await experiment.json()) as { id: string }).id}`, {
      headers: { authorization: `Bearer ${p.keys.a}` },
    });
    expect(await stopped.json()).toMatchObject({ status: 'stopped' });
  });

  it('shows another tenant none of it, live or by link', { timeout: 60_000 }, async () => {
    // Open since before the scenario, on the same live stream.
    expect(await b.page.$$('tr[data-incident]')).toHaveLength(0);
    await go(b.page, `#/incidents/${incidentId}`, 'incident');
    expect(await b.page.$eval('main', (e) => e.textContent)).toContain(`No incident ${incidentId} for this tenant`);
    await go(b.page, '#/services', 'services');
    expect(await b.page.$$('article[data-service]')).toHaveLength(0);
    await go(b.page, '#/config/rules', 'config');
    expect(await b.page.$$('tr[data-id]')).toHaveLength(0);
  });

  it('answers in the assistant chat', { timeout: 60_000 }, async () => {
    await go(a.page, '#/assistant', 'assistant');
    await a.page.type('#question', 'What is wrong with checkout?');
    await a.page.click('form button[type=submit]');
    await a.page.waitForFunction(
      () => document.querySelectorAll('.chat .turn').length >= 2 && !document.querySelector('.chat')?.textContent?.includes('Thinking'),
      {
        timeout: 45_000,
      },
    );
    expect(await a.page.$eval('.chat', (e) => e.textContent)).toMatch(/checkout/);
    // Its findings cite the incident, linked to the incident's page.
    expect(await a.page.$$eval('.chat a.evidence', (links) => links.map((l) => l.getAttribute('href')))).toContain(`#/incidents/${incidentId}`);
    expect(await unnamed(a.page)).toEqual([]);
    expect(await lowContrast(a.page)).toEqual([]);
    await screenshot(a.page, 'assistant');
  });

  it('loaded nothing from elsewhere and hit no script error or CSP violation', () => {
    for (const w of [a, b]) {
      expect(w.problems).toEqual([]);
      expect(w.requests.filter((u) => !u.startsWith(gateway.url) && !u.startsWith('data:'))).toEqual([]);
    }
  });
});
