import { rm } from 'node:fs/promises';
import { ensureDebianTool } from '../compose/local/apt.ts';
import { stackConfigFromEnv, stackDown, stackUp, stackUrls } from '../compose/local/stack.ts';
import { TEST_STACK_ENV } from './helpers/stack-env.ts';

/**
 * Brings up the real stack (Kafka, Apicurio, Redis) on test ports with its own
 * data folder, so a running `npm start` is never touched. Every run starts
 * from empty topics, subjects and tables, and stops the stack at the end.
 */
export default async function setup(): Promise<(() => Promise<void>) | void> {
  // `npm run test:unit`: tests beside the code that need no Kafka, registry or Redis.
  if (process.env.AUTOPILOT_TEST_STACK === 'off') return;
  const cfg = stackConfigFromEnv(TEST_STACK_ENV);
  const say = (msg: string) => process.stderr.write(`[stack] ${msg}\n`);
  await stackDown(cfg);
  await rm(TEST_STACK_ENV.AUTOPILOT_DATA_DIR, { recursive: true, force: true });
  await stackUp(cfg, say);
  // Real clients the tests drive: Debian's docker-compose validates the compose file offline.
  await ensureDebianTool('docker-compose', 'docker-compose', say);
  const urls = stackUrls(cfg);
  Object.assign(process.env, TEST_STACK_ENV, {
    KAFKA_BROKERS: urls.kafkaBrokers,
    SCHEMA_REGISTRY_URL: urls.schemaRegistryUrl,
    REDIS_URL: urls.redisUrl,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  return () => stackDown(cfg);
}
