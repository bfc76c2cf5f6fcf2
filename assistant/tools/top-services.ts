import { z } from 'zod';
import { isoTimeShort } from '../../lib/time.ts';
import { rangeArgs, resolveRange, showRange } from '../time-range.ts';
import { defineTool } from '../tool.ts';
import { bucketQuantiles } from './percentiles.ts';
import { cut, freeText, limitArg, metricArg, refs, round, rowLimit, serviceArg, tenantRows } from './read.ts';

/**
 * Services ranked by what is going wrong with them over a range: by error
 * rate (error and fatal log lines per minute, and their share of the
 * service's lines), or by latency change (p95 over the range against the
 * equal range just before it, from the rollups' sketches). Each row also
 * carries the previous range's figure, so a service that always logs errors
 * is told apart from one that just started.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ERROR_LEVELS = ['error', 'fatal'];
/** Metrics taken for latency when none is named. */
const LATENCY_METRICS = '(?i)duration|latency';

export const topServices = defineTool({
  name: 'top_services',
  description:
    "Services ranked over a range (default the last hour): by 'error_rate' (error/fatal log lines per minute, their share of all lines, the previous equal range's count, the most frequent error message) " +
    "or by 'latency_change' (p95 of each latency metric over the range against the equal range before it, largest rise first; metrics named like *duration* or *latency* unless `metric` is given). " +
    'Give `service` to see one service only.',
  args: z.strictObject({
    by: z.enum(['error_rate', 'latency_change']),
    ...rangeArgs('1h'),
    service: serviceArg.optional(),
    metric: metricArg.optional().describe('latency metric to compare (latency_change only)'),
    limit: limitArg,
  }),
  async run(args, ctx) {
    const range = resolveRange(args, ctx.now, { defaultMs: HOUR, maxMs: 7 * DAY });
    const limit = rowLimit(ctx, args.limit);
    const span = range.to - range.from;
    const params = { service: args.service, metric: args.metric, from: range.from, to: range.to, before: range.from - span, limit: limit + 1 };
    const serviceFilter = args.service === undefined ? '' : 'AND service = {service:String}';

    if (args.by === 'error_rate') {
      const rows = await tenantRows<{ service: string; errors: string; lines: string; errors_before: string; top: string[] }>(
        ctx,
        'error log rates',
        `SELECT service,
                countIf(timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND level IN {levels:Array(String)}) AS errors,
                countIf(timestamp >= fromUnixTimestamp64Milli({from:Int64})) AS lines,
                countIf(timestamp < fromUnixTimestamp64Milli({from:Int64}) AND level IN {levels:Array(String)}) AS errors_before,
                topKIf(1)(message, timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND level IN {levels:Array(String)}) AS top
           FROM log_entries FINAL
          WHERE tenant = {tenant:String} ${serviceFilter}
            AND timestamp >= fromUnixTimestamp64Milli({before:Int64}) AND timestamp < fromUnixTimestamp64Milli({to:Int64})
          GROUP BY service HAVING errors > 0
          ORDER BY errors DESC, service LIMIT {limit:UInt32}`,
        { ...params, levels: ERROR_LEVELS },
      );
      const { items, truncated } = cut(rows, limit);
      const minutes = span / 60_000;
      const services = items.map((r) => {
        const errors = Number(r.errors);
        return {
          service: r.service,
          ref: refs.logs(r.service, 'error'),
          errors,
          errors_per_minute: round(errors / minutes),
          error_share: round(errors / Number(r.lines)),
          errors_previous_range: Number(r.errors_before),
          top_message: r.top[0] === undefined ? null : freeText(r.top[0], 300),
        };
      });
      return {
        data: { by: 'error_rate', ...showRange(range), services },
        rows: services.length,
        truncated,
        evidence: services.map((s) => ({
          ref: s.ref,
          label: `${s.service}: ${s.errors} error lines ${isoTimeShort(range.from)}..${isoTimeShort(range.to)} (${s.errors_per_minute}/min, ${round(s.error_share * 100)}% of its lines; ${s.errors_previous_range} the range before)`,
        })),
      };
    }

    const m = 'sumMapIf(mapKeys(sketch), mapValues(sketch), window_start >= fromUnixTimestamp64Milli({from:Int64}))';
    const b = 'sumMapIf(mapKeys(sketch), mapValues(sketch), window_start < fromUnixTimestamp64Milli({from:Int64}))';
    const rows = await tenantRows<{ service: string; metric_name: string; n_now: string; n_before: string; q_now: number[]; q_before: number[] }>(
      ctx,
      'latency changes',
      `SELECT service, metric_name, n_now, n_before,
              ${bucketQuantiles('m_now', 'n_now', 'g', [0.95])} AS q_now,
              ${bucketQuantiles('m_before', 'n_before', 'g', [0.95])} AS q_before,
              (q_now[1] - q_before[1]) / q_before[1] AS change
         FROM (
           SELECT service, metric_name,
                  sumIf(count, window_start >= fromUnixTimestamp64Milli({from:Int64})) AS n_now,
                  sumIf(count, window_start < fromUnixTimestamp64Milli({from:Int64})) AS n_before,
                  ${m} AS m_now, ${b} AS m_before, any(sketch_gamma) AS g
             FROM metric_rollups FINAL
            WHERE tenant = {tenant:String} ${serviceFilter}
              AND ${args.metric === undefined ? `match(metric_name, '${LATENCY_METRICS}')` : 'metric_name = {metric:String}'}
              AND window_start >= fromUnixTimestamp64Milli({before:Int64}) AND window_start < fromUnixTimestamp64Milli({to:Int64})
            GROUP BY service, metric_name
         )
        WHERE n_now > 0 AND n_before > 0 AND q_before[1] > 0
        ORDER BY change DESC, service, metric_name LIMIT {limit:UInt32}`,
      params,
    );
    const { items, truncated } = cut(rows, limit);
    const services = items.map((r) => ({
      service: r.service,
      metric: r.metric_name,
      ref: refs.series(r.service, r.metric_name),
      p95: round(r.q_now[0]!),
      p95_previous_range: round(r.q_before[0]!),
      change_percent: round(((r.q_now[0]! - r.q_before[0]!) / r.q_before[0]!) * 100),
      samples: Number(r.n_now),
      samples_previous_range: Number(r.n_before),
    }));
    return {
      data: { by: 'latency_change', ...showRange(range), previous_range: showRange({ from: range.from - span, to: range.from }), services },
      rows: services.length,
      truncated,
      evidence: services.map((s) => ({
        ref: s.ref,
        label: `${s.service} ${s.metric}: p95 ${s.p95} ${isoTimeShort(range.from)}..${isoTimeShort(range.to)} against ${s.p95_previous_range} the range before (${s.change_percent > 0 ? '+' : ''}${s.change_percent}%)`,
      })),
    };
  },
});
