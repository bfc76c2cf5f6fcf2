import { z } from 'zod';
import { isoTimeShort } from '../../lib/time.ts';
import { rangeArgs, resolveRange, showRange, type TimeRange } from '../time-range.ts';
import { defineTool } from '../tool.ts';
import { bucketQuantiles } from './percentiles.ts';
import { cut, limitArg, metricArg, ms, refs, round, rowLimit, serviceArg, tenantRows } from './read.ts';

/**
 * A service's metrics from the rollups: `metric_series` (a metric's
 * percentiles over a range, per interval and overall) and `list_metrics`
 * (which metrics a service reports, so the model can name one).
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const STEPS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '6h': 21_600, '1d': 86_400 } as const;
type Step = keyof typeof STEPS;
/** From this interval up the hourly rollups are read: a week of 1-min windows is 10,080 rows per series. */
const HOURLY_FROM_S = 3600;

/** The finest interval whose points over `range` fit in `limit` rows (the coarsest when none does). */
function autoStep(range: TimeRange, limit: number): Step {
  const steps = Object.keys(STEPS) as Step[];
  return steps.find((s) => Math.ceil((range.to - range.from) / (STEPS[s] * 1000)) <= limit) ?? steps.at(-1)!;
}

/**
 * The windows of one service's metric in the range, all its series (label
 * sets) together, as columns w_*: from the 1-min rollups, or per series and
 * hour from the hourly table (whose windows are merged by maxMap, as
 * metric_rollups_hourly reads them, then turned back into sketch positions).
 */
function windowsSql(hourly: boolean): string {
  const key = 'tenant = {tenant:String} AND service = {service:String} AND metric_name = {metric:String}';
  return hourly
    ? `SELECT hour AS w_at, arraySum(mapValues(maxMap(counts))) AS w_n, arraySum(mapValues(maxMap(sums))) AS w_sum, min(min) AS w_min, max(max) AS w_max,
              arrayMap(k -> toInt32(k % 4000000) - 2000000, mapKeys(maxMap(buckets))) AS w_keys, mapValues(maxMap(buckets)) AS w_vals, any(gamma) AS w_gamma
         FROM metric_rollups_1h
        WHERE ${key} AND hour >= toStartOfHour(fromUnixTimestamp64Milli({from:Int64})) AND hour < fromUnixTimestamp64Milli({to:Int64})
        GROUP BY series, hour`
    : `SELECT window_start AS w_at, count AS w_n, sum AS w_sum, min AS w_min, max AS w_max, mapKeys(sketch) AS w_keys, mapValues(sketch) AS w_vals, sketch_gamma AS w_gamma
         FROM metric_rollups FINAL
        WHERE ${key} AND window_start >= fromUnixTimestamp64Milli({from:Int64}) AND window_start < fromUnixTimestamp64Milli({to:Int64})`;
}

const MERGE = 'sum(w_n) AS n, sum(w_sum) AS total, min(w_min) AS lo, max(w_max) AS hi, sumMap(w_keys, w_vals) AS merged, any(w_gamma) AS g';
const FIGURES = `n, total, lo, hi, ${bucketQuantiles('merged', 'n', 'g', [0.5, 0.95, 0.99])} AS qs`;

interface FigureRow {
  n: string | number;
  total: number;
  lo: number;
  hi: number;
  qs: number[];
}

const figures = (r: FigureRow) => {
  const count = Number(r.n);
  return { count, avg: round(r.total / count), min: round(r.lo), max: round(r.hi), p50: round(r.qs[0]!), p95: round(r.qs[1]!), p99: round(r.qs[2]!) };
};

export const metricSeries = defineTool({
  name: 'metric_series',
  description:
    "A service's metric over a time range, all its label sets together: per interval count, avg, p50, p95, p99 and max, plus the same over the whole range. " +
    'Use it to see when latency or a rate changed. Percentiles are merged from the rollups, accurate to about 1%. ' +
    'When there are more intervals than rows allowed, the latest are kept. Intervals of 1h and longer read hourly rollups (whole hours).',
  args: z.strictObject({
    service: serviceArg,
    metric: metricArg,
    ...rangeArgs('1h'),
    step: z
      .enum(Object.keys(STEPS) as [Step, ...Step[]])
      .optional()
      .describe('interval of each point; default the finest that fits the row limit'),
  }),
  async run(args, ctx) {
    const range = resolveRange(args, ctx.now, { defaultMs: HOUR, maxMs: 7 * DAY });
    const limit = rowLimit(ctx);
    const step = args.step ?? autoStep(range, limit);
    const hourly = STEPS[step] >= HOURLY_FROM_S;
    const params = { service: args.service, metric: args.metric, from: range.from, to: range.to, step: STEPS[step], limit: limit + 1 };
    const what = `${args.metric} of ${args.service}`;
    const points = await tenantRows<FigureRow & { t: string | number }>(
      ctx,
      what,
      `SELECT t, ${FIGURES} FROM (
         SELECT toUnixTimestamp(toStartOfInterval(w_at, toIntervalSecond({step:UInt32}))) * 1000 AS t, ${MERGE}
           FROM (${windowsSql(hourly)}) GROUP BY t
       ) ORDER BY t DESC LIMIT {limit:UInt32}`,
      params,
    );
    const [overall] = await tenantRows<FigureRow>(ctx, what, `SELECT ${FIGURES} FROM (SELECT ${MERGE} FROM (${windowsSql(hourly)})) WHERE n > 0`, params);
    const { items, truncated } = cut(points, limit);
    const ref = refs.series(args.service, args.metric);
    const total = overall ? figures(overall) : null;
    return {
      data: {
        service: args.service,
        metric: args.metric,
        ref,
        ...showRange(range),
        step,
        source: hourly ? 'hourly rollups' : '1-min rollups',
        overall: total,
        points: items.reverse().map((p) => ({ at: isoTimeShort(Number(p.t)), ...figures(p) })),
        ...(truncated ? { note: `only the latest ${limit} intervals: ask for a coarser step or a shorter range for the rest` } : {}),
        ...(total ? {} : { note: `no rollups of ${args.metric} for ${args.service} in this range; list_metrics names the metrics a service reports` }),
      },
      rows: items.length,
      truncated,
      evidence: total
        ? [
            {
              ref,
              label: `${args.service} ${args.metric} ${isoTimeShort(range.from)}..${isoTimeShort(range.to)}: p50 ${total.p50}, p95 ${total.p95}, p99 ${total.p99} over ${total.count} samples`,
            },
          ]
        : [],
    };
  },
});

export const listMetrics = defineTool({
  name: 'list_metrics',
  description:
    "The metrics a service reported in a time range (default the last 24h), with sample counts and when each was last seen. Use it to find a metric's exact name.",
  args: z.strictObject({ service: serviceArg, ...rangeArgs('24h'), limit: limitArg }),
  async run(args, ctx) {
    const range = resolveRange(args, ctx.now, { defaultMs: DAY, maxMs: 7 * DAY });
    const limit = rowLimit(ctx, args.limit);
    const rows = await tenantRows<{ metric_name: string; samples: string; series: string; last_at: string }>(
      ctx,
      `the metrics of ${args.service}`,
      `SELECT metric_name, sum(count) AS samples, uniqExact(series) AS series, toUnixTimestamp64Milli(max(window_start)) AS last_at
         FROM metric_rollups FINAL
        WHERE tenant = {tenant:String} AND service = {service:String}
          AND window_start >= fromUnixTimestamp64Milli({from:Int64}) AND window_start < fromUnixTimestamp64Milli({to:Int64})
        GROUP BY metric_name ORDER BY metric_name LIMIT {limit:UInt32}`,
      { service: args.service, from: range.from, to: range.to, limit: limit + 1 },
    );
    const { items, truncated } = cut(rows, limit);
    const metrics = items.map((r) => ({
      metric: r.metric_name,
      ref: refs.series(args.service, r.metric_name),
      samples: Number(r.samples),
      series: Number(r.series),
      last_at: isoTimeShort(ms(r.last_at)!),
    }));
    return {
      data: { service: args.service, ...showRange(range), metrics },
      rows: metrics.length,
      truncated,
      evidence: metrics.map((m) => ({ ref: m.ref, label: `${args.service} reports ${m.metric} (${m.samples} samples, last ${m.last_at})` })),
    };
  },
});
