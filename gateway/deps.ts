import type { ClickHouseClient } from '@clickhouse/client';
import type { Registry } from 'prom-client';
import type { Config } from '../lib/config.ts';
import type { HealthCheck } from '../lib/health.ts';
import type { Logger } from '../lib/log.ts';
import type { TenantRateLimiter } from './middleware/rate-limit.ts';
import type { Assistant } from '../assistant/service.ts';
import type { JobTriggers } from '../platform/job-triggers.ts';
import type { Publisher } from '../platform/publisher.ts';
import type { GatewayStores } from './stores.ts';
import type { GatewayTelemetry } from './telemetry.ts';

/** What the gateway app is built from (app.ts), and what each route file takes: a leaf, so routes never import the app. */
export interface GatewayDeps {
  config: Pick<Config, 'apiKeys' | 'adminKey' | 'maxBodyBytes' | 'maxBatch' | 'clickhouseUrl'> & Partial<Pick<Config, 'metricsTenantLabels' | 'selfMonitor'>>;
  publisher: Publisher;
  limiter: TenantRateLimiter;
  telemetry: GatewayTelemetry;
  registry: Registry;
  checks: HealthCheck[];
  clickhouse?: ClickHouseClient;
  /** The incidents and configuration API's storage; absent when this process has no ClickHouse. */
  stores?: GatewayStores;
  /** NOTIFY_ALLOW_LOOPBACK: whether a notification target may point at this host. */
  allowLoopbackTargets?: boolean;
  /** Manual job runs, for the scheduler to take (Redis); absent, POST /v1/jobs/{id}/trigger answers 503. */
  triggers?: JobTriggers;
  /** The ops assistant; absent when this process has no ClickHouse. */
  assistant?: Assistant;
  log: Logger;
}
