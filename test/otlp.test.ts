import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protoType } from '../gateway/protocols/protobuf.ts';
import { eventually, listen, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * OTLP/HTTP with the OpenTelemetry JS SDK's own exporters as senders (npm
 * @opentelemetry/exporter-*-otlp-http for JSON, -proto for protobuf),
 * pointed at the gateway as a user would point them at a Collector, and
 * every record read back from ClickHouse through the real sink.
 */
let p: TestPipeline;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  p = await startTestPipeline('otlp', { processors: ['sink'] });
  ({ url, close } = await listen(p.app));
});
afterAll(async () => {
  await close?.();
  await p?.stop();
});

const count = async (query: string, params: Record<string, unknown> = {}) => Number((await p.rows<{ n: string }>(query, { t: p.tenants.a, ...params }))[0]!.n);
const headers = () => ({ authorization: `Bearer ${p.keys.a}` });

describe.each([
  { format: 'json', Metrics: JsonMetricExporter, Logs: JsonLogExporter, Traces: JsonTraceExporter },
  { format: 'protobuf', Metrics: ProtoMetricExporter, Logs: ProtoLogExporter, Traces: ProtoTraceExporter },
])('the SDK exporting $format', ({ format, Metrics, Logs, Traces }) => {
  const service = `otlp-${format}`;
  const resource = resourceFromAttributes({ 'service.name': service, 'service.instance.id': 'pod-1', 'deployment.environment.name': 'test' });

  it('metrics: a counter, an up-down counter, a gauge and a histogram, every point as the series they map to', async () => {
    const exporter = new Metrics({ url: `${url}/otlp/v1/metrics`, headers: headers() });
    const provider = new MeterProvider({ resource, readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })] });
    const meter = provider.getMeter('checkout-scope', '1.2.3');
    const orders = meter.createCounter('orders.placed');
    orders.add(3, { region: 'eu' });
    orders.add(4, { region: 'eu' });
    orders.add(5, { region: 'us' });
    meter.createUpDownCounter('queue.depth').add(-2);
    meter.createGauge('cpu.temperature').record(61.5, { core: '0' });
    const latency = meter.createHistogram('http.server.duration', { advice: { explicitBucketBoundaries: [10, 100, 1000] } });
    for (const v of [5, 50, 60, 500, 5000]) latency.record(v, { route: '/pay' });
    await provider.shutdown(); // one collection, exported once: cumulative points of a second export would be samples of their own

    const values = async (metric: string) =>
      p.rows<{ labels: Record<string, string>; value: number }>(
        'SELECT labels, value FROM metric_points WHERE tenant = {t:String} AND service = {s:String} AND metric_name = {m:String} ORDER BY toString(labels)',
        { t: p.tenants.a, s: service, m: metric },
      );
    // A monotonic cumulative sum is a counter: `_total`.
    const counter = await eventually(
      () => values('orders.placed_total'),
      (r) => r.length === 2,
      20_000,
    );
    expect(counter.map((r) => [r.labels.region, r.value])).toEqual([
      ['eu', 7],
      ['us', 5],
    ]);
    expect(counter[0]!.labels).toMatchObject({ service, instance: 'pod-1', otel_scope_name: 'checkout-scope', otel_scope_version: '1.2.3' });
    expect(counter[0]!.labels['deployment.environment.name']).toBeUndefined(); // resource attributes beyond service/instance stay off series
    expect((await values('queue.depth')).map((r) => r.value)).toEqual([-2]);
    expect((await values('cpu.temperature')).map((r) => [r.labels.core, r.value])).toEqual([['0', 61.5]]);
    const buckets = await values('http.server.duration_bucket');
    expect(Object.fromEntries(buckets.map((r) => [r.labels.le, r.value]))).toEqual({ '10': 1, '100': 3, '1000': 4, '+Inf': 5 });
    expect((await values('http.server.duration_count')).map((r) => r.value)).toEqual([5]);
    expect((await values('http.server.duration_sum')).map((r) => r.value)).toEqual([5615]);
  });

  it('logs: every record in log_entries with its level, body and attributes', async () => {
    const exporter = new Logs({ url: `${url}/otlp/v1/logs`, headers: headers() });
    const provider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter })] });
    const logger = provider.getLogger('payments-logger');
    const n = 40;
    for (let i = 0; i < n; i++)
      logger.emit({
        severityNumber: i % 4 === 0 ? SeverityNumber.ERROR : SeverityNumber.INFO,
        severityText: i % 4 === 0 ? 'ERROR' : 'INFO',
        body: i === 1 ? ({ order: 17, ok: false } as never) : `line ${i}`,
        attributes: { 'order.id': `o-${i}` },
      });
    await provider.shutdown();

    await eventually(
      () => count('SELECT count() AS n FROM log_entries WHERE tenant = {t:String} AND service = {s:String}', { s: service }),
      (c) => c === n,
      20_000,
    );
    expect(await count("SELECT count() AS n FROM log_entries WHERE tenant = {t:String} AND service = {s:String} AND level = 'error'", { s: service })).toBe(10);
    const [row] = await p.rows<{ message: string; labels: Record<string, string> }>(
      "SELECT message, labels FROM log_entries WHERE tenant = {t:String} AND service = {s:String} AND labels['order.id'] = 'o-1'",
      { t: p.tenants.a, s: service },
    );
    expect(row!.message).toBe('{"order":17,"ok":false}');
    expect(row!.labels).toMatchObject({ instance: 'pod-1', otel_scope_name: 'payments-logger' });
  });

  it('traces: every span in `spans` with its parent, kind, status, attributes and events; a log inside a span carries its ids', async () => {
    const provider = new TracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor({ exporter: new Traces({ url: `${url}/otlp/v1/traces`, headers: headers() }) })],
    });
    const logs = new LoggerProvider({
      resource,
      processors: [new BatchLogRecordProcessor({ exporter: new Logs({ url: `${url}/otlp/v1/logs`, headers: headers() }) })],
    });
    const tracer = provider.getTracer('checkout-tracer', '2.0.0');
    const n = 25;
    let traceId = '';
    for (let i = 0; i < n; i++) {
      const parent = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, attributes: { 'http.route': '/checkout', attempt: i } });
      if (i === 0) traceId = parent.spanContext().traceId;
      const child = tracer.startSpan('charge card', { kind: SpanKind.CLIENT }, trace.setSpan(context.active(), parent));
      child.addEvent('retry', { 'retry.count': 1 });
      if (i % 5 === 0) child.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
      if (i === 0) logs.getLogger('checkout').emit({ body: 'charging', context: trace.setSpan(context.active(), child) });
      child.end();
      parent.end();
    }
    await provider.shutdown();
    await logs.shutdown();

    await eventually(
      () => count('SELECT count() AS n FROM spans FINAL WHERE tenant = {t:String} AND service = {s:String}', { s: service }),
      (c) => c === 2 * n,
      20_000,
    );
    const rows = await p.rows<{
      name: string;
      kind: string;
      status_code: string;
      status_message: string;
      parent_span_id: string;
      span_id: string;
      scope_name: string;
      span_attributes: Record<string, string>;
      event_names: string[];
      event_attributes: Record<string, string>[];
    }>(
      `SELECT name, kind, status_code, status_message, parent_span_id, span_id, scope_name, span_attributes,
              events.name AS event_names, events.attributes AS event_attributes
       FROM spans FINAL WHERE tenant = {t:String} AND service = {s:String} AND trace_id = {id:String}`,
      { t: p.tenants.a, s: service, id: traceId },
    );
    const parent = rows.find((r) => r.name === 'POST /checkout')!;
    const child = rows.find((r) => r.name === 'charge card')!;
    expect(parent).toMatchObject({
      kind: 'Server',
      parent_span_id: '',
      scope_name: 'checkout-tracer',
      span_attributes: { 'http.route': '/checkout', attempt: '0' },
    });
    expect([child.event_names, child.event_attributes]).toEqual([['retry'], [{ 'retry.count': '1' }]]);
    expect(child).toMatchObject({ kind: 'Client', status_code: 'Error', status_message: 'card declined', parent_span_id: parent.span_id });
    expect(
      await count("SELECT count() AS n FROM spans FINAL WHERE tenant = {t:String} AND service = {s:String} AND status_code = 'Error'", { s: service }),
    ).toBe(5);
    const [log] = await eventually(
      () =>
        p.rows<{ labels: Record<string, string> }>(
          "SELECT labels FROM log_entries WHERE tenant = {t:String} AND service = {s:String} AND message = 'charging'",
          {
            t: p.tenants.a,
            s: service,
          },
        ),
      (r) => r.length === 1,
      20_000,
    );
    expect(log!.labels).toMatchObject({ trace_id: traceId, span_id: child.span_id });
  });
});

describe('what the SDK never sends', () => {
  const post = (path: string, body: BodyInit, contentType: string) =>
    fetch(`${url}${path}`, { method: 'POST', body, headers: { ...headers(), 'content-type': contentType } });
  const jsonPoint = (timeUnixNano: string, asDouble: number) => ({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otlp-partial' } }] },
        scopeMetrics: [{ metrics: [{ name: 'partial.gauge', gauge: { dataPoints: [{ timeUnixNano, asDouble }] } }] }],
      },
    ],
  });

  it('malformed protobuf and JSON are a 400 with a google.rpc.Status, and nothing is written', async () => {
    const bad = await post('/otlp/v1/metrics', new Uint8Array([0x0a, 0xff, 0xff, 0x01]), 'application/x-protobuf');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/x-protobuf');
    const status = protoType('google-rpc-status.proto', 'google.rpc.Status').decode(new Uint8Array(await bad.arrayBuffer())) as unknown as {
      code: number;
      message: string;
    };
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/malformed OTLP protobuf/);

    const badJson = await post('/otlp/v1/logs', '{"resourceLogs": [', 'application/json');
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { message: string }).message).toMatch(/malformed OTLP JSON/);
    const badId = await post('/otlp/v1/logs', JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ traceId: 'xyz' }] }] }] }), 'application/json');
    expect(badId.status).toBe(400);
    expect(await count("SELECT count() AS n FROM metric_points WHERE tenant = {t:String} AND service = 'otlp-partial'")).toBe(0);
  });

  it('a point outside the accepted window is rejected the OTLP way: 200, partialSuccess counting it, the rest written', async () => {
    const nowNs = `${Date.now()}000000`;
    const body = jsonPoint(nowNs, 1);
    body.resourceMetrics[0]!.scopeMetrics[0]!.metrics[0]!.gauge.dataPoints.push({ timeUnixNano: '1000000000', asDouble: 2 });
    const res = await post('/otlp/v1/metrics', JSON.stringify(body), 'application/json');
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
    expect(answer.partialSuccess.rejectedDataPoints).toBe('1');
    expect(answer.partialSuccess.errorMessage).toMatch(/1 of 2 data points were not written: 1 outside the accepted time window/);
    await eventually(
      () => count("SELECT count() AS n FROM metric_points WHERE tenant = {t:String} AND service = 'otlp-partial'"),
      (n) => n === 1,
      15_000,
    );
  });

  it('a request wholly accepted answers an empty Export…ServiceResponse, and gzip is read', async () => {
    const { gzipSync } = await import('node:zlib');
    const res = await fetch(`${url}/otlp/v1/metrics`, {
      method: 'POST',
      body: gzipSync(JSON.stringify(jsonPoint(`${Date.now()}000000`, 3))),
      headers: { ...headers(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });

  it('without a key: 401, as a Status', async () => {
    const res = await fetch(`${url}/otlp/v1/traces`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { code: number }).code).toBe(16);
  });
});
