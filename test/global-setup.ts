import { rm } from 'node:fs/promises';
import type { TestProject } from 'vitest/node';
import { ensureDebianPackage, ensureDebianTool } from '../compose/local/apt.ts';
import { stackConfigFromEnv, stackDown, stackUp, stackUrls } from '../compose/local/stack.ts';
import { TEST_STACK_ENV } from './helpers/stack-env.ts';

/** Paths of the real Debian clients the tests drive, for `inject('debianTools')`. */
export interface DebianTools {
  prometheus: string;
  alertmanager: string;
  /** The headless browser the console's tests drive (puppeteer-core; no browser download). */
  chromium: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    debianTools: DebianTools;
  }
}

/**
 * Brings up the real stack (Kafka, Apicurio, Redis) on test ports with its own
 * data folder, so a running `npm start` is never touched. Every run starts
 * from empty topics, subjects and tables, and stops the stack at the end.
 * Installs the Debian packages the suite needs when missing (as root), so
 * `npm install && npm test` passes on a fresh machine by itself.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  // `npm run test:unit`: tests beside the code that need no Kafka, registry or Redis.
  if (process.env.AUTOPILOT_TEST_STACK === 'off') return;
  const cfg = stackConfigFromEnv(TEST_STACK_ENV);
  const say = (msg: string) => process.stderr.write(`[stack] ${msg}\n`);
  // Real clients the tests drive, before anything starts (an apt failure leaves nothing running):
  // docker-compose validates the compose file offline; Prometheus remote-writes, Alertmanager posts webhooks;
  // chromium opens the console (with a font, or its screenshots show empty boxes for text).
  await ensureDebianTool('docker-compose', 'docker-compose', say);
  project.provide('debianTools', {
    prometheus: await ensureDebianTool('prometheus', 'prometheus', say),
    alertmanager: await ensureDebianTool('prometheus-alertmanager', 'prometheus-alertmanager', say),
    chromium: await ensureDebianTool('chromium', 'chromium', say),
  });
  await ensureDebianPackage('fonts-liberation', say);
  await stackDown(cfg);
  await rm(TEST_STACK_ENV.AUTOPILOT_DATA_DIR, { recursive: true, force: true });
  await stackUp(cfg, say);
  const urls = stackUrls(cfg);
  Object.assign(process.env, TEST_STACK_ENV, {
    KAFKA_BROKERS: urls.kafkaBrokers,
    SCHEMA_REGISTRY_URL: urls.schemaRegistryUrl,
    REDIS_URL: urls.redisUrl,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  return () => stackDown(cfg);
}
