import { Hono } from 'hono';
import { z } from 'zod';
import { AutopilotError, unavailable } from '../../lib/errors.ts';
import { readOnlyClickHouse } from '../../sql/client.ts';
import { describeMetric, StatisticsStore, TREND_METRICS } from '../../sql/stores/statistics.ts';
import { formatDuration, parseDuration } from '../../tenant-config/duration.ts';
import type { GatewayDeps } from '../deps.ts';
import { parseWith } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';

/**
 * The caller's tenant's activity, from ClickHouse (sql/stores/statistics.ts):
 * an overview over a trailing window, and one metric over time in buckets.
 *
 * The store is built here from the read-only twin of the ClickHouse client,
 * as /v1/agents/stats reads agent_calls, rather than kept in GatewayStores:
 * these are aggregate reads only, which an in-memory stand-in could not
 * check; the route tests run them on the embedded engine.
 *
 * Ingest by protocol: rows in ClickHouse do not say which protocol brought
 * them, and the gateway's in-process counters are one process's since its
 * start (a cluster has one per worker). Self-monitoring (AUTOPILOT_SELF_TENANT)
 * stores every gateway process's per-tenant counter of accepted records by
 * protocol as metric samples, so that is what the protocol figures read;
 * without it they are null (overview) or 404 (trends), and rows per kind
 * still are there.
 */
const DAY = 24 * 3_600_000;
/** The raw tables keep 30 days. */
const MAX_WINDOW = 31 * DAY;
const MIN_INTERVAL = 60_000;
/** window / interval at most this (a day by the minute); the answer has one point more when the window starts mid-bucket. */
export const MAX_BUCKETS = 1440;

const duration = (fallback: string, min: number, max: number, what: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null || ms < min || ms > max) {
        ctx.addIssue({ code: 'custom', message: `'${text}' is not a ${what} between ${formatDuration(min)} and ${max / DAY}d, such as '1h' or '7d'` });
        return z.NEVER;
      }
      return ms;
    });

const window = duration('24h', MIN_INTERVAL, MAX_WINDOW, 'window');
const overviewQuery = z.strictObject({ window });
const trendsQuery = z
  .strictObject({
    metric: z.enum(TREND_METRICS, { error: `must be one of ${TREND_METRICS.join(', ')}` }),
    window,
    interval: duration('1h', MIN_INTERVAL, MAX_WINDOW, 'interval'),
  })
  .refine((q) => Math.ceil(q.window / q.interval) <= MAX_BUCKETS, {
    message: `window / interval gives more than ${MAX_BUCKETS} buckets: widen the interval or shorten the window`,
    path: ['interval'],
  });

export function statisticsRoutes(deps: Pick<GatewayDeps, 'clickhouse' | 'config'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  const storeOf = async () => {
    if (!deps.clickhouse)
      throw unavailable('this endpoint reads ClickHouse: run the gateway with the processors (npm start) or set CLICKHOUSE_URL', undefined, 30);
    return new StatisticsStore(await readOnlyClickHouse(deps.clickhouse), deps.config.selfMonitor?.tenant);
  };

  app.get('/v1/statistics/overview', async (c) => {
    const q = parseWith(overviewQuery, c.req.query(), 'query');
    const store = await storeOf();
    const to = Date.now();
    const from = to - q.window;
    return c.json({ window: formatDuration(q.window), from, to, ...(await store.overview(c.get('tenant'), from, to)) });
  });

  app.get('/v1/statistics/trends', async (c) => {
    const q = parseWith(trendsQuery, c.req.query(), 'query');
    const store = await storeOf();
    if (!store.has(q.metric)) throw new AutopilotError('not_found', `${q.metric} is recorded only with self-monitoring: set AUTOPILOT_SELF_TENANT`);
    const to = Date.now();
    // Buckets on multiples of the interval since the epoch (whole hours for '1h'), so two requests a minute
    // apart share their buckets; the first starts at or before to − window, the last is the one in progress.
    const from = Math.floor((to - q.window) / q.interval) * q.interval;
    const points = await store.trend(c.get('tenant'), q.metric, { start: from, end: to, step: q.interval });
    return c.json({ metric: q.metric, ...describeMetric(q.metric), window: formatDuration(q.window), interval: formatDuration(q.interval), from, to, points });
  });

  return app;
}

/** How each figure is defined, for the OpenAPI document (gateway/openapi.ts). */
export const STATISTICS_DEFINITIONS = `Every figure is the caller's tenant's, over [to − window, to), read with FINAL (a replayed record counts once).

- **ingest.rows**: rows stored per kind (metric samples, log lines, spans, deployments, alerts, agent calls) by each row's own time (event time; alerts by when last received); rows_per_second divides by the window.
- **ingest.by_protocol**: records the gateway accepted (answered 2xx) per protocol (json, remote_write, loki, otlp, alertmanager), from its per-tenant counter as self-monitoring stores it; null unless AUTOPILOT_SELF_TENANT is set (rows in ClickHouse do not record the protocol).
- **series.active**: metric series (service, name, labels) with a sample in the window.
- **incidents.open**: incidents open now. **opened**, **resolved**: in the window.
- **incidents.mtta_s** (mean time to acknowledge): Autopilot has no acknowledge button, so an incident counts as acknowledged when its first notification is delivered to a target (Slack or webhook): the mean of (first delivered − opened) over the incidents opened in the window that had one by \`to\` (**acknowledged** says how many). Failed and suppressed deliveries do not count.
- **incidents.time_to_analysis_s**: the same to the first root-cause analysis (**analysed** says how many).
- **incidents.mttr_s** (mean time to resolve): the mean of (resolved − opened) over the incidents resolved in the window, wherever they opened.
- **analyses.by_source**: analyses made, llm or rules. **feedback.helpful_rate**: helpful / feedback given in the window (null with none).
- **notifications.by_outcome**: deliveries (incidents and rule alerts, every target): delivered, failed, suppressed (cooldown).
- **assistant**: the assistant's answers (count, sessions, by source llm / rules / needs_model), their latency (mean and exact percentiles, interpolated between ranks; null with none), tool calls and model tokens.`;

/** The trend metrics, one line each, for the OpenAPI document. */
export const TREND_METRICS_DESCRIPTION = TREND_METRICS.map((m) => {
  const d = describeMetric(m);
  return `- **${m}** (${d.unit}): ${d.description}`;
}).join('\n');
