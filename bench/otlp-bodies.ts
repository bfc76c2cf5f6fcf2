import { protoType } from '../gateway/protocols/protobuf.ts';

/** A point as the benches make them (bench/ingest.ts). */
interface BenchPoint {
  timestamp: number;
  metric_name: string;
  value: number;
  labels: Record<string, string>;
}

const METRICS_REQUEST = protoType(
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
);

const kv = (key: string, value: string) => ({ key, value: { string_value: value } });

/**
 * Points as one OTLP ExportMetricsServiceRequest in protobuf: a resource per
 * service (`service.name`), a gauge per metric name, a data point per point
 * with its other labels as attributes, as an SDK exports a batch.
 */
export function otlpMetricsBody(points: readonly BenchPoint[]): Buffer {
  const byService = new Map<string, Map<string, object[]>>();
  for (const p of points) {
    const { service = 'unknown_service', ...attributes } = p.labels;
    let metrics = byService.get(service);
    if (!metrics) byService.set(service, (metrics = new Map()));
    let dataPoints = metrics.get(p.metric_name);
    if (!dataPoints) metrics.set(p.metric_name, (dataPoints = []));
    dataPoints.push({
      attributes: Object.entries(attributes).map(([k, v]) => kv(k, v)),
      time_unix_nano: `${p.timestamp}000000`,
      as_double: p.value,
    });
  }
  const request = {
    resource_metrics: [...byService].map(([service, metrics]) => ({
      resource: { attributes: [kv('service.name', service)] },
      scope_metrics: [{ scope: { name: 'bench' }, metrics: [...metrics].map(([name, data_points]) => ({ name, gauge: { data_points } })) }],
    })),
  };
  return Buffer.from(METRICS_REQUEST.encode(METRICS_REQUEST.fromObject(request)).finish());
}
