import { sortKeys } from '../../../lib/labels.ts';
import { SeriesSet, seriesHash, type SeriesEntry } from '../../../schemas/metric-batch.ts';
import type { StaleMarker } from '../../../schemas/topics.ts';
import { validMetricName } from '../../records.ts';
import { MAX_PROBLEMS, noteProblem, type Rejections } from '../partial-write.ts';
import { inWindow, labelProblem, METRIC_NAME_RULE } from '../series-rules.ts';
import { attribute, labelsOf } from './attributes.ts';
import {
  type KeyValueMsg,
  NO_RECORDED_VALUE,
  type ExponentialHistogramDataPointMsg,
  type HistogramDataPointMsg,
  type MetricMsg,
  type MetricsRequestMsg,
  type ResourceMsg,
  type ScopeMsg,
} from './messages.ts';

/**
 * OTLP metrics as the series Autopilot stores, the way Prometheus 3's OTLP
 * receiver maps them (names kept as sent: UTF-8 names are valid here):
 *
 * - labels: the data point's attributes; `service` from the resource's
 *   `service.name`, `instance` from `service.instance.id`, `service_namespace`
 *   from `service.namespace`; the scope as `otel_scope_name` and
 *   `otel_scope_version` (when set). Other resource attributes are not
 *   copied onto every series.
 * - gauge: `<name>`. sum: monotonic and cumulative is a counter, `<name>_total`
 *   (unless it ends so already); not monotonic, a gauge `<name>`. Delta
 *   temporality is kept as sent, marked `otel_temporality="delta"`, never
 *   turned into a running total.
 * - histogram: `<name>_bucket{le="…"}` (cumulative, up to `+Inf`),
 *   `<name>_count`, `<name>_sum`.
 * - exponential histogram: `<name>_count`, `<name>_sum` and
 *   `<name>{quantile="0.5"|"0.9"|"0.95"|"0.99"}` estimated from its buckets
 *   (each bucket's geometric middle: within a bucket's relative width, 2^(2^-scale) - 1).
 * - summary: `<name>{quantile="…"}`, `<name>_count`, `<name>_sum`.
 * - a point flagged "no recorded value" is a staleness marker for its series.
 *
 * Points are counted as OTLP counts them (one histogram point is one point
 * however many series it fills). A point outside the raw tables' window, or
 * whose name or labels break the series rules, is rejected, the rest written.
 */
export interface OtlpMetricConversion extends Rejections {
  series: SeriesEntry[];
  /** Samples in `series`. */
  samples: number;
  stale: StaleMarker[];
}

export const EXPONENTIAL_QUANTILES = [0.5, 0.9, 0.95, 0.99] as const;

export function toOtlpMetricSeries(tenant: string, request: MetricsRequestMsg, now = Date.now()): OtlpMetricConversion {
  const out: OtlpMetricConversion = { series: [], samples: 0, stale: [], total: 0, outOfWindow: 0, invalid: 0, problems: [] };
  const set = new SeriesSet();
  for (const rm of request.resource_metrics ?? []) {
    const promoted = resourceLabels(rm.resource);
    for (const sm of rm.scope_metrics ?? []) {
      const common = { ...promoted, ...scopeLabels(sm.scope) };
      for (const metric of sm.metrics ?? []) convertMetric(metric, common);
    }
  }
  out.series = set.entries;
  return out;

  function convertMetric(m: MetricMsg, common: Record<string, string>): void {
    const name = m.name;
    const point = (attributes: readonly KeyValueMsg[], time: number, flags: number, extra?: readonly [string, string]) => {
      out.total++;
      const labels = labelsOf(attributes, common, extra);
      const problem = !validMetricName(name) ? `metric name must be ${METRIC_NAME_RULE}` : labelProblem(labels);
      if (problem !== undefined) return reject('invalid', `${name}: ${problem}`);
      const timestamp = Math.round(time / 1e6);
      if (time <= 0 || !inWindow(timestamp, now)) return reject('outOfWindow', `${name}: time_unix_nano ${time} is outside the accepted window`);
      return { labels, timestamp, stale: (flags & NO_RECORDED_VALUE) !== 0 };
    };
    const write = (metricName: string, labels: Record<string, string>, timestamp: number, value: number, stale: boolean) => {
      if (stale) {
        out.stale.push({ tenant, timestamp, metric_name: metricName, labels });
        return;
      }
      set.add(tenant, metricName, labels, seriesHash(tenant, metricName, labels), out.total - 1, timestamp, value);
      out.samples++;
    };

    switch (m.data) {
      case 'gauge':
      case 'sum': {
        const sum = m.data === 'sum' ? m.sum : null;
        const counter = sum?.is_monotonic === true && sum.aggregation_temporality !== DELTA;
        const metricName = counter && !name.endsWith('_total') ? `${name}_total` : name;
        const delta = sum?.aggregation_temporality === DELTA;
        for (const p of (m.data === 'gauge' ? m.gauge : m.sum)?.data_points ?? []) {
          const ok = point(p.attributes, p.time_unix_nano, p.flags, delta ? DELTA_LABEL : undefined);
          if (ok) write(metricName, ok.labels, ok.timestamp, p.value === 'as_int' ? p.as_int : p.as_double, ok.stale);
        }
        return;
      }
      case 'histogram': {
        const delta = m.histogram?.aggregation_temporality === DELTA;
        for (const p of m.histogram?.data_points ?? []) {
          const ok = point(p.attributes, p.time_unix_nano, p.flags, delta ? DELTA_LABEL : undefined);
          if (!ok) continue;
          const labels = ok.labels;
          for (const [le, count] of cumulativeBuckets(p)) write(`${name}_bucket`, sortKeys({ ...labels, le }), ok.timestamp, count, ok.stale);
          write(`${name}_count`, labels, ok.timestamp, p.count, ok.stale);
          if (p._sum === 'sum') write(`${name}_sum`, labels, ok.timestamp, p.sum, ok.stale);
        }
        return;
      }
      case 'exponential_histogram': {
        const delta = m.exponential_histogram?.aggregation_temporality === DELTA;
        for (const p of m.exponential_histogram?.data_points ?? []) {
          const ok = point(p.attributes, p.time_unix_nano, p.flags, delta ? DELTA_LABEL : undefined);
          if (!ok) continue;
          const labels = ok.labels;
          write(`${name}_count`, labels, ok.timestamp, p.count, ok.stale);
          if (p._sum === 'sum') write(`${name}_sum`, labels, ok.timestamp, p.sum, ok.stale);
          for (const q of EXPONENTIAL_QUANTILES) write(name, sortKeys({ ...labels, quantile: String(q) }), ok.timestamp, exponentialQuantile(p, q), ok.stale);
        }
        return;
      }
      case 'summary':
        for (const p of m.summary?.data_points ?? []) {
          const ok = point(p.attributes, p.time_unix_nano, p.flags);
          if (!ok) continue;
          for (const q of p.quantile_values ?? []) write(name, sortKeys({ ...ok.labels, quantile: String(q.quantile) }), ok.timestamp, q.value, ok.stale);
          write(`${name}_count`, ok.labels, ok.timestamp, p.count, ok.stale);
          write(`${name}_sum`, ok.labels, ok.timestamp, p.sum, ok.stale);
        }
        return;
      default:
        // A metric with no data (or a kind newer than these files): nothing to write, nothing refused.
        return;
    }
  }

  function reject(why: 'invalid' | 'outOfWindow', problem: string): undefined {
    out[why]++;
    if (out.problems.length < MAX_PROBLEMS) noteProblem(out, problem);
    return undefined;
  }
}

/** AggregationTemporality: 1 delta, 2 cumulative. */
const DELTA = 1;
const DELTA_LABEL = ['otel_temporality', 'delta'] as const;

function resourceLabels(resource: ResourceMsg | null): Record<string, string> {
  const labels: Record<string, string> = { service: attribute(resource?.attributes, 'service.name') || 'unknown_service' };
  const instance = attribute(resource?.attributes, 'service.instance.id');
  if (instance) labels.instance = instance;
  const namespace = attribute(resource?.attributes, 'service.namespace');
  if (namespace) labels.service_namespace = namespace;
  return labels;
}

function scopeLabels(scope: ScopeMsg | null): Record<string, string> {
  const labels: Record<string, string> = {};
  if (scope?.name) labels.otel_scope_name = scope.name;
  if (scope?.version) labels.otel_scope_version = scope.version;
  return labels;
}

/** An explicit-bounds histogram's buckets as Prometheus's `le` series: cumulative counts, the last one `+Inf`. */
export function cumulativeBuckets(p: HistogramDataPointMsg): [string, number][] {
  const out: [string, number][] = [];
  let running = 0;
  const counts = p.bucket_counts ?? [];
  for (let i = 0; i < counts.length; i++) {
    running += counts[i]!;
    const bound = p.explicit_bounds?.[i];
    out.push([i < counts.length - 1 && bound !== undefined ? String(bound) : '+Inf', running]);
  }
  return out;
}

/**
 * The q-quantile of an exponential histogram, from its buckets: positive
 * bucket i covers (base^i, base^(i+1)] with base = 2^(2^-scale); the value
 * returned is the geometric middle of the bucket the quantile's rank falls
 * in (negative buckets mirrored, the zero bucket 0), clamped to min/max when
 * the point has them. NaN for an empty histogram.
 */
export function exponentialQuantile(p: ExponentialHistogramDataPointMsg, q: number): number {
  const neg = p.negative?.bucket_counts ?? [];
  const pos = p.positive?.bucket_counts ?? [];
  let total = p.zero_count ?? 0;
  for (const c of neg) total += c;
  for (const c of pos) total += c;
  if (total <= 0) return Number.NaN;
  const base = 2 ** (2 ** -p.scale);
  const middle = (index: number) => base ** (index + 0.5);
  const clamp = (v: number) => Math.min(p._max === 'max' ? p.max : v, Math.max(p._min === 'min' ? p.min : v, v));
  const rank = q * (total - 1);
  let seen = 0;
  // Most negative first: negative buckets from the highest index down.
  for (let i = neg.length - 1; i >= 0; i--) {
    seen += neg[i]!;
    if (rank < seen) return clamp(-middle((p.negative?.offset ?? 0) + i));
  }
  seen += p.zero_count ?? 0;
  if (rank < seen) return clamp(0);
  for (let i = 0; i < pos.length; i++) {
    seen += pos[i]!;
    if (rank < seen) return clamp(middle((p.positive?.offset ?? 0) + i));
  }
  return clamp(middle((p.positive?.offset ?? 0) + pos.length - 1));
}
