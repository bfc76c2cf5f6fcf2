import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * Debian's chromium, headless, driven by puppeteer-core (which downloads no
 * browser). Each browser gets a fresh profile folder, so no session or
 * cache survives between tests, and each page its own browser context. A page records what went wrong in it
 * (script errors, console errors such as CSP violations, failed requests)
 * and every URL it asked for, so a test can check the console loaded
 * nothing from outside the gateway.
 */
const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../../test-results/console');

const FLAGS = [
  '--headless',
  '--no-sandbox', // root in CI, where chromium's sandbox cannot start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface WatchedPage {
  page: Page;
  /** Script errors, console.error lines (CSP violations among them) and failed requests, in order. */
  problems: string[];
  /** Every URL requested. */
  requests: string[];
}

export interface TestBrowser {
  open(url: string): Promise<WatchedPage>;
  close(): Promise<void>;
}

export async function launchBrowser(executablePath: string): Promise<TestBrowser> {
  const profile = await mkdtemp(path.join(tmpdir(), 'autopilot-chromium-'));
  const browser: Browser = await puppeteer.launch({
    executablePath,
    args: [...FLAGS, `--user-data-dir=${profile}`],
    defaultViewport: { width: 1400, height: 900 },
  });
  return {
    async open(url) {
      // A context (and so a window) of its own: no storage shared with other pages, and never a background tab,
      // which would get no animation frames, and whose input and events chromium delays or drops.
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('pageerror', (err) => problems.push(`page error: ${err instanceof Error ? err.message : String(err)}`));
      page.on('console', (msg) => {
        // Chromium logs every 4xx as "Failed to load resource": a refusal the test asks for (another tenant's incident) is no problem.
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console: ${msg.text()}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 500) problems.push(`answered ${r.status()}: ${r.url()}`);
      });
      page.on('request', (r) => requests.push(r.url()));
      page.on('requestfailed', (r) => {
        // A stream the page closes on leaving (the live connection) is aborted by design.
        if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
      });
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      return { page, problems, requests };
    },
    async close() {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Writes `name`.png of the whole page under test-results/console/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file as `${string}.png`, fullPage: true });
  return file;
}
