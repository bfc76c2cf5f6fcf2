import { Hono } from 'hono';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Registry } from 'prom-client';
import { adminOnly } from '../lib/bearer.ts';
import { runReadOnly } from '../sql/read-only.ts';
import { AutopilotError, badRequest } from '../lib/errors.ts';
import { checkReadiness, type HealthCheck } from '../lib/health.ts';
import { withoutTenantLabels } from '../lib/metrics-page.ts';
import { healthRoutes } from './health-routes.ts';

/**
 * What every long-running component serves besides its work: status and
 * details (health-routes.ts), liveness,
 * readiness naming the dependency that failed, Prometheus metrics, and (in the
 * process that holds the embedded ClickHouse) a read-only SQL endpoint for
 * `autopilot sql`, behind the admin key.
 */
export function opsRoutes(opts: {
  registry: Registry;
  checks: HealthCheck[];
  clickhouse?: ClickHouseClient;
  adminKey?: string;
  metricsTenantLabels?: boolean;
}): Hono {
  const app = new Hono();

  app.route('/', healthRoutes(opts));
  app.get('/health/live', (c) => c.json({ status: 'ok' }));

  app.get('/health/ready', async (c) => {
    const r = await checkReadiness(opts.checks);
    return c.json({ status: r.ready ? 'ready' : 'unavailable', checks: r.checks }, r.ready ? 200 : 503);
  });

  // No key, as Prometheus scrapes it; tenants only when AUTOPILOT_METRICS_TENANT_LABELS says so (lib/metrics-page.ts).
  app.get('/metrics', async (c) => {
    const page = await opts.registry.metrics();
    return c.text(opts.metricsTenantLabels ? page : withoutTenantLabels(page), 200, { 'content-type': opts.registry.contentType });
  });

  app.post('/admin/sql', adminOnly(opts.adminKey), async (c) => {
    if (!opts.clickhouse) throw new AutopilotError('not_found', 'this process does not hold a ClickHouse client');
    const body = (await c.req.json().catch(() => null)) as { query?: unknown } | null;
    if (!body || typeof body.query !== 'string' || !body.query.trim()) throw badRequest('send {"query": "SELECT …"}');
    const rows = await runReadOnly(opts.clickhouse, body.query);
    return c.json(rows);
  });

  return app;
}
