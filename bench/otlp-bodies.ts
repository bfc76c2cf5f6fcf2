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

const TRACES_REQUEST = protoType(
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
);

/**
 * `count` spans as one OTLP ExportTraceServiceRequest in protobuf: traces of
 * four spans (a server span and three children) across `services` services,
 * each span with a few attributes and one in ten with an event, as an
 * instrumented service exports a batch.
 */
export function otlpTracesBody(count: number, services: number, seed: number): Buffer {
  const now = Date.now();
  const id = (n: number, bytes: number) =>
    Buffer.from((n.toString(16).padStart(8, '0') + (seed >>> 0).toString(16).padStart(8, '0')).repeat(4).slice(0, 2 * bytes), 'hex');
  const byService = new Map<number, object[]>();
  for (let i = 0; i < count; i++) {
    const trace = Math.floor(i / 4);
    const root = i % 4 === 0;
    const service = trace % services;
    const startNs = `${now - 1000 + (i % 1000)}000000`;
    let spans = byService.get(service);
    if (!spans) byService.set(service, (spans = []));
    spans.push({
      trace_id: id(trace + 1, 16),
      span_id: id(i + 1, 8),
      parent_span_id: root ? Buffer.alloc(0) : id(trace * 4 + 1, 8),
      name: root ? 'GET /api/items/{id}' : `SELECT items ${i % 4}`,
      kind: root ? 2 : 3,
      start_time_unix_nano: startNs,
      end_time_unix_nano: `${now - 1000 + (i % 1000)}${String(100_000 + (i % 900_000)).padStart(6, '0')}`,
      attributes: [kv('http.route', '/api/items/{id}'), kv('db.system', 'postgresql'), kv('net.peer.name', `db-${i % 3}`)],
      events: i % 10 === 0 ? [{ time_unix_nano: startNs, name: 'cache miss', attributes: [kv('key', `item:${i}`)] }] : [],
      status: { code: i % 50 === 0 ? 2 : 0 },
    });
  }
  const request = {
    resource_spans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [kv('service.name', `svc-${service}`), kv('service.instance.id', `pod-${service}`)] },
      scope_spans: [{ scope: { name: 'bench' }, spans }],
    })),
  };
  return Buffer.from(TRACES_REQUEST.encode(TRACES_REQUEST.fromObject(request)).finish());
}
