import { Hono } from 'hono';
import { z } from 'zod';
import { unavailable } from '../../lib/errors.ts';
import { readOnlyClickHouse } from '../../sql/client.ts';
import { selectRows } from '../../sql/rows.ts';
import { formatDuration, parseDuration } from '../../tenant-config/duration.ts';
import type { GatewayDeps } from '../deps.ts';
import { parseWith } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';

/**
 * LLM and agent calls over a trailing window, per agent or per model, from
 * agent_calls (one row per call, priced by the agents processor): how many,
 * how many succeeded, latency percentiles (exact, interpolated between
 * ranks as numpy's default does), tokens and cost. The same figures over
 * rolling windows, as metric series, feed alert rules (processors/agents/series.ts).
 */
const MAX_WINDOW = 31 * 24 * 3_600_000;

const statsQuery = z.strictObject({
  window: z
    .string()
    .default('1h')
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === null || ms <= 0 || ms > MAX_WINDOW) {
        ctx.addIssue({ code: 'custom', message: `'${text}' is not a duration between 1ms and 31d, such as '15m', '1h' or '7d'` });
        return z.NEVER;
      }
      return ms;
    }),
  by: z.enum(['agent', 'model'], { error: "must be 'agent' or 'model'" }).default('agent'),
});

type StatsRow = {
  grp: string;
  calls: string;
  errors: string;
  p50: number;
  p95: number;
  p99: number;
  tokens_in: string;
  tokens_out: string;
  cost_usd: number;
  unpriced: string;
};

export function agentStatsRoutes(deps: Pick<GatewayDeps, 'clickhouse'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();

  app.get('/v1/agents/stats', async (c) => {
    const q = parseWith(statsQuery, c.req.query(), 'query');
    if (!deps.clickhouse)
      throw unavailable('this endpoint reads ClickHouse: run the gateway with the processors (npm start) or set CLICKHOUSE_URL', undefined, 30);
    const reader = await readOnlyClickHouse(deps.clickhouse);
    // `by` is one of two column names, checked above: the only text put into the statement.
    // No upper bound: a call a sender's clock put slightly ahead still counts.
    const rows = await selectRows<StatsRow>(
      reader,
      `SELECT ${q.by} AS grp, count() AS calls, countIf(status != 'ok') AS errors,
              quantilesExactInclusive(0.5, 0.95, 0.99)(duration_ms) AS qs, qs[1] AS p50, qs[2] AS p95, qs[3] AS p99,
              sum(input_tokens) AS tokens_in, sum(output_tokens) AS tokens_out,
              sum(ifNull(cost, 0)) AS cost_usd, countIf(isNull(cost)) AS unpriced
         FROM agent_calls FINAL
        WHERE tenant = {tenant:String} AND agent_calls.started_at >= now64(3) - toIntervalMillisecond({window:UInt64})
        GROUP BY grp ORDER BY cost_usd DESC, calls DESC, grp`,
      { tenant: c.get('tenant'), window: q.window },
    );
    return c.json({
      window: formatDuration(q.window),
      by: q.by,
      groups: rows.map((r) => {
        const count = Number(r.calls);
        const errors = Number(r.errors);
        return {
          [q.by]: r.grp,
          count,
          errors,
          success_rate: count === 0 ? null : (count - errors) / count,
          p50_ms: Number(r.p50),
          p95_ms: Number(r.p95),
          p99_ms: Number(r.p99),
          input_tokens: Number(r.tokens_in),
          output_tokens: Number(r.tokens_out),
          cost_usd: Number(r.cost_usd),
          /** Calls with no cost (a model missing from the price table): cost_usd leaves them out. */
          unpriced_calls: Number(r.unpriced),
        };
      }),
    });
  });

  return app;
}
