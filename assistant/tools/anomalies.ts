import { z } from 'zod';
import { ANOMALY_SEVERITIES, scaleRank } from '../../lib/severity.ts';
import { isoTimeShort } from '../../lib/time.ts';
import { rangeArgs, resolveRange, showRange } from '../time-range.ts';
import { defineTool, type Evidence } from '../tool.ts';
import { cut, freeMap, limitArg, metricArg, refs, round, rowLimit, serviceArg, tenantRows } from './read.ts';

/** Anomalies the detector (and the error-rate processor, kind `error_rate`) found, newest first. */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const anomalies = defineTool({
  name: 'anomalies',
  description:
    'Anomalies detected in a range (default the last hour), newest first: service, metric, labels, kind (error_rate for error-log spikes), severity, ' +
    'the value against its baseline, z-score and anomaly score. Filter by service, metric and minimum severity.',
  args: z.strictObject({
    service: serviceArg.optional(),
    metric: metricArg.optional(),
    severity: z.enum(ANOMALY_SEVERITIES).optional().describe('at least this severity'),
    ...rangeArgs('1h'),
    limit: limitArg,
  }),
  async run(args, ctx) {
    const range = resolveRange(args, ctx.now, { defaultMs: HOUR, maxMs: 7 * DAY });
    const limit = rowLimit(ctx, args.limit);
    const severities = args.severity === undefined ? undefined : ANOMALY_SEVERITIES.filter((s) => scaleRank(s) >= scaleRank(args.severity!));
    const rows = await tenantRows<{
      anomaly_id: string;
      service: string;
      metric_name: string;
      labels: Record<string, string>;
      kind: string;
      severity: string;
      current_value: number;
      baseline_median: number;
      z_score: number;
      deviation_percent: number;
      anomaly_score: number | null;
      level_shift: boolean;
      at: string;
    }>(
      ctx,
      'anomalies',
      `SELECT anomaly_id, service, metric_name, labels, kind, severity, current_value, baseline_median, z_score, deviation_percent, anomaly_score, level_shift,
              toUnixTimestamp64Milli(detected_at) AS at
         FROM anomalies FINAL
        WHERE tenant = {tenant:String}
          ${args.service === undefined ? '' : 'AND service = {service:String}'}
          ${args.metric === undefined ? '' : 'AND metric_name = {metric:String}'}
          ${severities === undefined ? '' : 'AND severity IN {severities:Array(String)}'}
          AND detected_at >= fromUnixTimestamp64Milli({from:Int64}) AND detected_at < fromUnixTimestamp64Milli({to:Int64})
        ORDER BY anomalies.detected_at DESC, anomaly_id LIMIT {limit:UInt32}`,
      { service: args.service, metric: args.metric, severities, from: range.from, to: range.to, limit: limit + 1 },
    );
    const { items, truncated } = cut(rows, limit);
    const list = items.map((a) => ({
      id: a.anomaly_id,
      ref: refs.anomaly(a.anomaly_id),
      series_ref: refs.series(a.service, a.metric_name),
      service: a.service,
      metric: a.metric_name,
      labels: freeMap(a.labels),
      kind: a.kind,
      severity: a.severity,
      at: isoTimeShort(Number(a.at)),
      value: round(a.current_value),
      baseline: round(a.baseline_median),
      z: round(a.z_score),
      deviation_percent: round(a.deviation_percent),
      score: a.anomaly_score === null ? null : round(a.anomaly_score),
      level_shift: Boolean(a.level_shift),
    }));
    const evidence: Evidence[] = list.map((a) => ({
      ref: a.ref,
      label: `${a.severity} anomaly on ${a.service} ${a.metric} at ${a.at}: ${a.value} against a baseline of ${a.baseline} (z ${a.z})`,
    }));
    // The series too, once each: a finding about a metric cites the series its anomalies are on.
    for (const ref of new Set(list.map((a) => a.series_ref)))
      evidence.push({ ref, label: `${ref.slice('series:'.length)}: anomalous in ${isoTimeShort(range.from)}..${isoTimeShort(range.to)}` });
    return { data: { ...showRange(range), anomalies: list }, rows: list.length, truncated, evidence };
  },
});
