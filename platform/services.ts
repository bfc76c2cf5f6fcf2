import type { ClickHouseClient } from '@clickhouse/client';
import { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { SchemaCatalog } from '../schemas/catalog.ts';
import { createClickHouse } from '../sql/client.ts';
import { migrate } from '../sql/migrate.ts';
import type { Config } from '../lib/config.ts';
import { backOff, type Backoff } from '../lib/backoff.ts';
import { AutopilotError, describeError } from '../lib/errors.ts';
import type { HealthCheck } from '../lib/health.ts';
import { createKafka, ensureTopics } from './kafka.ts';
import type { Logger } from '../lib/log.ts';

/**
 * Connections to the services every component shares, opened in dependency
 * order and waited for: a pipeline that starts before Kafka is reachable
 * should wait for it, not crash-loop.
 */
export interface Services {
  kafka: Kafka;
  catalog: SchemaCatalog;
  redis: Redis;
  clickhouse?: ClickHouseClient;
  checks: HealthCheck[];
  close(): Promise<void>;
}

export async function connectServices(config: Config, log: Logger, opts: { clientId: string; clickhouse: boolean; waitMs?: number }): Promise<Services> {
  const waitMs = opts.waitMs ?? 120_000;
  const kafka = createKafka(config.kafkaBrokers, opts.clientId, log);
  const catalog = SchemaCatalog.connect(config.schemaRegistryUrl);
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  redis.on('error', (err) => log.warn({ err: describeError(err) }, 'redis'));

  let clickhouse: ClickHouseClient | undefined;
  if (opts.clickhouse) {
    clickhouse = await createClickHouse({ url: config.clickhouseUrl, dataDir: config.dataDir });
    await waitFor(
      'ClickHouse migrations',
      () => migrate(clickhouse!).then((r) => r.applied.length && log.info({ applied: r.applied }, 'migrations applied')),
      waitMs,
      log,
    );
  }
  await waitFor('Kafka topics', () => ensureTopics(kafka, config.topicPartitions, config.topicReplication), waitMs, log);
  await waitFor('schema registration', () => catalog.registerAll(), waitMs, log);
  await waitFor('Redis', () => redis.connect().catch((err) => (redis.status === 'ready' ? undefined : Promise.reject(err))), waitMs, log);

  const admin = kafka.admin();
  const checks: HealthCheck[] = [
    {
      name: 'kafka',
      check: async () => {
        await admin.connect();
        await admin.describeCluster();
      },
    },
    {
      name: 'schema_registry',
      check: async () => {
        const res = await fetch(`${config.schemaRegistryUrl}/subjects`);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      },
    },
    {
      name: 'redis',
      check: async () => {
        await redis.ping();
      },
    },
  ];
  if (clickhouse)
    checks.push({
      name: 'clickhouse',
      check: async () => {
        const r = await clickhouse!.ping();
        if (!r.success) throw r.error;
      },
    });

  return {
    kafka,
    catalog,
    redis,
    clickhouse,
    checks,
    async close() {
      await admin.disconnect().catch(() => undefined);
      redis.disconnect();
      await clickhouse?.close();
    },
  };
}

/** A steady second between tries: the services are starting up, not overloaded, so waiting longer only delays the start. */
const STEADY_SECOND: Backoff = { initialMs: 1000, maxMs: 1000, jitter: 'none' };

/** Retries `step` every second until it succeeds or `waitMs` passes; a non-retriable AutopilotError stops at once. */
async function waitFor(what: string, step: () => Promise<unknown>, waitMs: number, log: Logger): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await step();
      return;
    } catch (err) {
      if (err instanceof AutopilotError && !err.retriable) throw err;
      if (Date.now() > deadline) throw new Error(`${what}: gave up after ${waitMs / 1000} s: ${describeError(err)}`, { cause: err });
      if (attempt % 5 === 0) log.warn({ err: describeError(err) }, `${what}: waiting for the service`);
      await backOff(attempt, STEADY_SECOND);
    }
  }
}
