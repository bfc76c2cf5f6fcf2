import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { Publisher } from './publisher.ts';
import { sortKeys } from '../lib/labels.ts';
import type { MetricPoint } from '../schemas/topics.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { everyInterval } from '../lib/serial.ts';

/**
 * Autopilot watching itself: every interval, this process's own metrics (the
 * registry /metrics serves) become metric points of the tenant
 * AUTOPILOT_SELF_TENANT, published like any other tenant's. The Pipeline
 * health dashboard reads them from metric_points, and detect and correlate
 * treat a sick pipeline like a sick service. Histograms contribute `_sum` and
 * `_count` (their buckets would multiply the series for little use).
 * Pointing a Prometheus at /metrics with remote_write to /api/v1/write does
 * the same from outside.
 */
export function startSelfMonitor(o: { registry: Registry; publisher: Publisher; tenant: string; intervalMs: number; log: Logger }): { stop(): void } {
  const instance = `${hostname()}:${process.pid}`;
  const scrape = async () => {
    const timestamp = Date.now();
    const points: MetricPoint[] = [];
    for (const metric of await o.registry.getMetricsAsJSON()) {
      for (const v of metric.values as { value: number; metricName?: string; labels: Record<string, string | number> }[]) {
        const name = v.metricName ?? metric.name;
        if (name.endsWith('_bucket') || !Number.isFinite(v.value)) continue;
        const labels: Record<string, string> = { instance, service: 'autopilot' };
        for (const [k, value] of Object.entries(v.labels)) labels[k === 'service' ? 'exported_service' : k] = String(value);
        points.push({ tenant: o.tenant, timestamp, metric_name: name, value: v.value, labels: sortKeys(labels) });
      }
    }
    await o.publisher.publish('metrics', points);
  };
  return everyInterval(o.intervalMs, scrape, (err) => o.log.warn({ err: describeError(err) }, 'self-monitoring scrape not published; next interval retries'));
}
