import type { ClickHouseClient } from '@clickhouse/client';
import type { Registry } from 'prom-client';
import type { Config } from '../lib/config.ts';
import type { HealthCheck } from '../lib/health.ts';
import type { Logger } from '../lib/log.ts';
import type { TenantRateLimiter } from './middleware/rate-limit.ts';
import type { Assistant } from '../assistant/service.ts';
import type { JobTriggers } from '../platform/job-triggers.ts';
import type { Proposals } from '../platform/proposals.ts';
import type { Publisher } from '../platform/publisher.ts';
import type { SecretBox } from '../lib/secrets.ts';
import type { SlackReplays } from './slack-signature.ts';
import type { LiveFeed } from './live-feed.ts';
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
  /** Remediation proposals' state (Redis) and the audit; absent, approvals and configuration changes answer 503. */
  proposals?: Proposals;
  /** Slack signatures already used (Redis), so a replayed interaction is refused; absent, Slack interactions answer 503. */
  slackReplays?: SlackReplays;
  /** AUTOPILOT_SECRET_KEY: seals the secrets of actions and settings; absent, configuring a secret is refused. */
  secretBox?: SecretBox;
  /** The ops assistant; absent when this process has no ClickHouse. */
  assistant?: Assistant;
  /** The console's live updates (GET /v1/live), polled from ClickHouse; absent when this process has none. */
  live?: LiveFeed;
  log: Logger;
}
