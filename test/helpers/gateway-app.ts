import { Registry } from 'prom-client';
import type { ClickHouseClient } from '@clickhouse/client';
import { createApp } from '../../gateway/app.ts';
import { TenantRateLimiter } from '../../gateway/middleware/rate-limit.ts';
import type { Publisher } from '../../gateway/publish.ts';
import { createStores } from '../../gateway/stores.ts';
import { gatewayTelemetry } from '../../gateway/telemetry.ts';
import { createLogger } from '../../lib/log.ts';

/**
 * The gateway app for tests of what it refuses: everything real but Kafka,
 * which such a request must never reach. The publisher throws if it is
 * called, so a refusal that happened too late shows as a 500.
 */
export const TEST_KEYS = { a: 'key-of-tenant-a', b: 'key-of-tenant-b' } as const;

const kafkaNotExpected = (): never => {
  throw new Error('this request should have been refused before Kafka');
};
const unreachablePublisher: Publisher = { publish: kafkaNotExpected, publishAll: kafkaNotExpected, connected: false, close: async () => undefined };

export function refusalTestApp(opts: { clickhouse?: ClickHouseClient; maxBodyBytes?: number; tenantRate?: number; metricsTenantLabels?: boolean } = {}) {
  const registry = new Registry();
  const telemetry = gatewayTelemetry(registry);
  const app = createApp({
    config: {
      apiKeys: new Map([[TEST_KEYS.a, 'tenant-a'], [TEST_KEYS.b, 'tenant-b']]),
      adminKey: 'admin-key-for-tests',
      maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024,
      maxBatch: 1000,
      clickhouseUrl: undefined,
      metricsTenantLabels: opts.metricsTenantLabels,
    },
    publisher: unreachablePublisher,
    limiter: new TenantRateLimiter(opts.tenantRate ?? 0),
    telemetry,
    registry,
    checks: [],
    clickhouse: opts.clickhouse,
    stores: opts.clickhouse && createStores(opts.clickhouse),
    log: createLogger('test-gateway', 'silent'),
  });
  return { app, registry, telemetry };
}
