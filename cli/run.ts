import cluster from 'node:cluster';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Config } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { createRegistry } from '../lib/metrics.ts';
import { opsRoutes } from '../platform/ops-routes.ts';
import { connectServices } from '../platform/services.ts';
import { workerRegistry } from '../gateway/cluster.ts';
import { startGateway } from '../gateway/server.ts';
import { NEEDS_CLICKHOUSE, PROCESSOR_NAMES, startProcessors, type ProcessorName } from '../processors/start.ts';
import { createPublisher } from '../platform/publisher.ts';
import type { Logger } from '../lib/log.ts';
import { startSelfMonitor } from '../platform/self-monitor.ts';
import { startSchedulerComponent } from '../scheduler/start.ts';
import type { Services } from '../platform/services.ts';
import type { Registry } from 'prom-client';
import { removeRunFile, writeRunFile } from './run-file.ts';

export const COMPONENTS = ['gateway', 'processors', 'scheduler', ...PROCESSOR_NAMES] as const;
export type Component = (typeof COMPONENTS)[number];

/**
 * Runs components in this process: downstream first (processors), then the
 * gateway. On SIGINT/SIGTERM it stops upstream first: the gateway stops
 * accepting and finishes what it acknowledged, then each processor writes and
 * commits the batch in hand. A second signal exits at once.
 */
export async function runComponents(components: Component[], config: Config, onReady?: (url: string) => void): Promise<void> {
  const name = components.length > 1 ? 'autopilot' : components[0]!;
  const log = createLogger(name);
  const registry = cluster.isWorker ? workerRegistry(name) : createRegistry(name);
  const processors: ProcessorName[] = components.includes('processors') ? [...PROCESSOR_NAMES] : PROCESSOR_NAMES.filter((p) => components.includes(p));
  const gateway = components.includes('gateway');
  const scheduling = components.includes('scheduler');
  // The embedded engine belongs to one process: the gateway alone only opens ClickHouse when it is a server.
  const needsClickHouse = scheduling || processors.some((p) => NEEDS_CLICKHOUSE.includes(p)) || Boolean(config.clickhouseUrl);

  const services = await connectServices(config, log, { clientId: `autopilot-${name}`, clickhouse: needsClickHouse });
  const running = processors.length
    ? await startProcessors(processors, services, registry, log, { groupPrefix: config.groupPrefix, newGroupStart: config.newGroupStart })
    : undefined;
  const scheduler = scheduling ? await startSchedulerComponent(services, registry, log) : undefined;

  let url: string;
  let stopHttp: () => Promise<void>;
  if (gateway) {
    const g = await startGateway(config, services, registry, log);
    url = g.url;
    stopHttp = g.stop;
  } else {
    // A processor-only process still serves health, metrics and admin SQL.
    const app = new Hono().route(
      '/',
      opsRoutes({
        registry,
        checks: services.checks,
        clickhouse: services.clickhouse,
        adminKey: config.adminKey,
        metricsTenantLabels: config.metricsTenantLabels,
      }),
    );
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: config.port }, () => resolve(s));
    });
    const address = server.address();
    url = `http://localhost:${typeof address === 'object' && address ? address.port : config.port}`; // PORT=0 picks a free port
    stopHttp = () => new Promise((resolve) => server.close(() => resolve()));
    log.info({ url }, 'ops endpoint listening');
  }
  const self = config.selfMonitor && (await selfMonitor(config.selfMonitor, services, registry, log));
  const holdsEmbedded = needsClickHouse && !config.clickhouseUrl;
  if (holdsEmbedded) writeRunFile(config.dataDir, { pid: process.pid, url });
  onReady?.(url);

  let stoppingSince = 0;
  const stop = async (signal: string) => {
    if (stoppingSince) {
      // Ctrl-C under `npm start` reaches us twice at once (the terminal's and npm's forward): only a later one means "now".
      if (Date.now() - stoppingSince < 2000) return;
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stoppingSince = Date.now();
    log.info({ signal }, 'stopping');
    try {
      await self?.stop();
      await stopHttp();
      await scheduler?.stop();
      await running?.stop();
      await services.close();
    } finally {
      if (holdsEmbedded) removeRunFile(config.dataDir);
    }
    log.info('stopped cleanly');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** This process's metrics into its own pipeline, on a producer of its own. */
async function selfMonitor(o: { tenant: string; intervalMs: number }, services: Services, registry: Registry, log: Logger) {
  const publisher = await createPublisher(services.kafka, services.catalog, log);
  const monitor = startSelfMonitor({ registry, publisher, log, ...o });
  return {
    async stop() {
      monitor.stop();
      await publisher.close();
    },
  };
}
