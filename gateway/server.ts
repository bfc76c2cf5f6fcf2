import { serve, type ServerType } from '@hono/node-server';
import type { Registry } from 'prom-client';
import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/log.ts';
import type { Services } from '../platform/services.ts';
import type { Hono } from 'hono';
import { createApp } from './app.ts';
import type { TenantEnv } from './middleware/auth.ts';
import { TenantRateLimiter } from './middleware/rate-limit.ts';
import { createPublisher, type Publisher } from '../platform/publisher.ts';
import { allowLoopbackTargets } from '../tenant-config/url-guard.ts';
import { createStores } from './stores.ts';
import { LiveFeed } from './live-feed.ts';
import { readOnlyClickHouse } from '../sql/client.ts';
import { IncidentChanges } from '../sql/stores/incidents.ts';
import { JobTriggers } from '../platform/job-triggers.ts';
import { Proposals } from '../platform/proposals.ts';
import { SecretBox } from '../lib/secrets.ts';
import { SlackReplays } from './slack-signature.ts';
import { assistantConfig } from '../assistant/config.ts';
import { createAssistant } from '../assistant/service.ts';
import type { ModelCall } from '../lib/model-calls.ts';
import { selfCallEvent } from '../platform/self-agent-events.ts';
import { gatewayTelemetry } from './telemetry.ts';

export interface RunningGateway {
  url: string;
  /** Stops accepting, lets requests in flight finish (each waits for its Kafka ack), then closes the producer. */
  stop(): Promise<void>;
}

/** The gateway app and its producer, wired from shared connections; tests use it without a server. */
export async function buildGateway(
  config: Config,
  services: Services,
  registry: Registry,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ app: Hono<TenantEnv>; publisher: Publisher; live?: LiveFeed }> {
  // Read first: a key of the wrong size stops the start before anything is connected.
  const secretBox = SecretBox.fromEnv(env);
  const telemetry = gatewayTelemetry(registry);
  const publisher = await createPublisher(services.kafka, services.catalog, log, {
    onProduced: (kind, count, seconds) => {
      telemetry.recordsProduced.inc({ kind }, count);
      telemetry.produceSeconds.observe({ kind }, seconds);
    },
  });
  const ch = services.clickhouse;
  // One poller for the process, on the read-only twin so it never queues behind the sink's inserts; stop it before ClickHouse closes.
  const live = ch && new LiveFeed(async () => new IncidentChanges(await readOnlyClickHouse(ch)), { pollMs: config.consoleLivePollMs, log });
  const app = createApp({
    config,
    publisher,
    limiter: new TenantRateLimiter(config.tenantRate),
    telemetry,
    registry,
    checks: services.checks,
    clickhouse: services.clickhouse,
    stores: services.clickhouse && createStores(services.clickhouse),
    // Targets are checked with the notifier's own rule for loopback URLs.
    allowLoopbackTargets: allowLoopbackTargets(env),
    triggers: new JobTriggers(services.redis),
    // Approvals publish the proposal's new version and its audit event through this gateway's producer.
    proposals: new Proposals(services.redis, publisher),
    slackReplays: new SlackReplays(services.redis),
    secretBox,
    assistant: services.clickhouse && createAssistant(services.clickhouse, assistantConfig(env), { onModelCall: assistantTelemetry(config, publisher, log) }),
    live,
    log,
  });
  return { app, publisher, live };
}

export async function startGateway(config: Config, services: Services, registry: Registry, log: Logger): Promise<RunningGateway> {
  if (config.apiKeys.size === 0) throw new Error('no API keys: set AUTOPILOT_API_KEYS=tenant:key[,tenant:key…]');
  const { app, publisher, live } = await buildGateway(config, services, registry, log);
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: '0.0.0.0' }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}`;
  log.info({ url }, 'gateway listening');

  return {
    url,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Live streams never end by themselves: ending them lets the server finish closing.
      await live?.stop();
      await closed;
      await publisher.close();
      log.info('gateway stopped');
    },
  };
}

/** The agent name the assistant's model calls go by in the self tenant's agent telemetry. */
export const ASSISTANT_AGENT = 'autopilot-assistant';

/**
 * With AUTOPILOT_SELF_TENANT set, each of the assistant's model calls is an
 * agent event of the self tenant (as the analyst's are), sent in the
 * background: telemetry never holds up or fails an answer.
 */
function assistantTelemetry(config: Config, publisher: Publisher, log: Logger): ((tenant: string, call: ModelCall) => void) | undefined {
  const self = config.selfMonitor?.tenant;
  if (!self) return undefined;
  return (tenant, call) => {
    publisher
      .publish('agentEvents', [selfCallEvent(self, ASSISTANT_AGENT, call, '', { asking_tenant: tenant })])
      .catch((err) => log.warn({ err: String(err) }, 'assistant telemetry not published'));
  };
}
