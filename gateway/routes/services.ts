import { Hono } from 'hono';
import { z } from 'zod';
import { readOnlyClickHouse } from '../../sql/client.ts';
import { alignedSpan, ServiceStore, trailingSpan } from '../../sql/stores/services.ts';
import type { GatewayDeps } from '../deps.ts';
import { parseWith } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores } from '../stores.ts';

/**
 * The console's services page: every service of the caller's tenant with
 * its latency percentiles, throughput and error rate over the last minutes,
 * its open incidents and last deployment; and one service's series over any
 * span up to a week (the incident page charts latency around an incident).
 *
 * As /v1/statistics, the store is built on the read-only twin of the
 * ClickHouse client: aggregate reads only, which an in-memory stand-in could
 * not check; the route tests run them on the embedded engine.
 */
const MINUTE = 60_000;
const MAX_SPAN = 7 * 24 * 60 * MINUTE;
const serviceName = z.string().min(1).max(256);

const overviewQuery = z.strictObject({
  minutes: z.coerce.number().int().min(5).max(1440).default(60),
  q: z
    .string()
    .max(256)
    .optional()
    .transform((q) => q || undefined),
});

const seriesQuery = z
  .strictObject({
    from: z.coerce.number().int().nonnegative(),
    to: z.coerce.number().int().nonnegative(),
    metric: z.string().min(1).max(256).optional(),
  })
  .refine((q) => q.from < q.to, { message: 'from must be before to', path: ['to'] })
  .refine((q) => q.to - q.from <= MAX_SPAN, { message: 'the span is at most 7 days', path: ['to'] });

export function serviceRoutes(deps: Pick<GatewayDeps, 'clickhouse'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  const storeOf = async () => new ServiceStore(await readOnlyClickHouse(requireStores(deps.clickhouse)));

  app.get('/v1/services', async (c) => {
    const q = parseWith(overviewQuery, c.req.query(), 'query');
    const store = await storeOf();
    const span = trailingSpan(Date.now(), q.minutes);
    return c.json({ ...span, services: await store.overview(c.get('tenant'), span, { q: q.q }) });
  });

  app.get('/v1/services/:service/series', async (c) => {
    const service = parseWith(serviceName, c.req.param('service'), 'service');
    const q = parseWith(seriesQuery, c.req.query(), 'query');
    const store = await storeOf();
    const span = alignedSpan(q.from, q.to);
    const detail = await store.series(c.get('tenant'), service, span, q.metric);
    return c.json({ service, latency_metric: detail.latency_metric, ...span, series: detail.series, deployments: detail.deployments });
  });

  return app;
}
