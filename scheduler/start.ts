import type { Registry } from 'prom-client';
import type { Logger } from '../lib/log.ts';
import { JobTriggers } from '../platform/job-triggers.ts';
import { createPublisher } from '../platform/publisher.ts';
import type { Services } from '../platform/services.ts';
import { DocumentStore } from '../sql/stores/documents.ts';
import type { Job } from '../tenant-config/jobs.ts';
import { schedulerConfig } from './config.ts';
import { startScheduler } from './scheduler.ts';
import { schedulerTelemetry } from './telemetry.ts';

/**
 * `autopilot run scheduler` (and part of `npm start`): the scheduler on the
 * shared connections, with a producer of its own. Jobs are read from
 * ClickHouse, so it runs where ClickHouse is (the embedded engine's process,
 * or anywhere with CLICKHOUSE_URL).
 */
export async function startSchedulerComponent(services: Services, registry: Registry, log: Logger, env: NodeJS.ProcessEnv = process.env) {
  const config = schedulerConfig(env);
  if (!services.clickhouse) throw new Error('the scheduler reads its jobs from ClickHouse');
  const store = new DocumentStore<Job>(services.clickhouse, 'jobs');
  const publisher = await createPublisher(services.kafka, services.catalog, log);
  const scheduler = startScheduler({
    jobs: () => store.all(),
    redis: services.redis,
    publisher,
    triggers: new JobTriggers(services.redis),
    config,
    telemetry: schedulerTelemetry(registry),
    log: log.child({ component: 'scheduler' }),
  });
  services.checks.push(scheduler.check);
  return {
    async stop() {
      await scheduler.stop();
      await publisher.close();
    },
  };
}
