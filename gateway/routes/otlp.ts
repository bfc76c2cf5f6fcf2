import { Hono, type Context } from 'hono';
import type { AutopilotError } from '../../lib/errors.ts';
import { readBytes } from '../body.ts';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { decodeOtlp, otlpFormat, type OtlpSignal } from '../protocols/otlp/decode.ts';
import { toOtlpLogEntries } from '../protocols/otlp/logs.ts';
import type { LogsRequestMsg, MetricsRequestMsg, TracesRequestMsg } from '../protocols/otlp/messages.ts';
import { toOtlpMetricSeries } from '../protocols/otlp/metrics.ts';
import { toAgentEvents } from '../protocols/otlp/genai.ts';
import { exportResponse, statusResponse, type OtlpAnswer } from '../protocols/otlp/response.ts';
import { toSpans } from '../protocols/otlp/traces.ts';

/**
 * OTLP/HTTP (what an OpenTelemetry SDK or Collector sends with the
 * `otlphttp` exporter pointed at `http://<gateway>/otlp`): metrics, logs and
 * traces, protobuf or JSON, plain or gzip, with the same bearer key, body
 * limit, rate limit and "2xx only after the Kafka ack" as every ingest path.
 * Answers follow OTLP's rules (protocols/otlp/response.ts).
 */
export function otlpRoutes(deps: GatewayDeps): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  const limits = { maxDecodedBytes: deps.config.maxBodyBytes * 8 };
  const decode = async <T>(c: Context<TenantEnv>, signal: OtlpSignal) =>
    decodeOtlp<T>(signal, await readBytes(c.req.raw), { contentType: c.req.header('content-type'), contentEncoding: c.req.header('content-encoding') }, limits);

  app.post('/otlp/v1/metrics', async (c) => {
    const { request, format } = await decode<MetricsRequestMsg>(c, 'metrics');
    const tenant = c.get('tenant');
    const converted = toOtlpMetricSeries(tenant, request);
    deps.telemetry.recordsReceived.inc({ protocol: 'otlp', kind: 'metrics' }, converted.total);
    await deps.limiter.spend(tenant, converted.samples + converted.stale.length, () =>
      deps.publisher.publishAll([
        { kind: 'metrics', series: converted.series },
        { kind: 'staleMarkers', records: converted.stale },
      ]),
    );
    deps.telemetry.recordsAccepted.inc({ protocol: 'otlp', kind: 'metrics', tenant }, converted.samples);
    return answer(exportResponse('metrics', format, converted, 'data points'));
  });

  app.post('/otlp/v1/logs', async (c) => {
    const { request, format } = await decode<LogsRequestMsg>(c, 'logs');
    const tenant = c.get('tenant');
    const converted = toOtlpLogEntries(tenant, request);
    deps.telemetry.recordsReceived.inc({ protocol: 'otlp', kind: 'logs' }, converted.total);
    await deps.limiter.spend(tenant, converted.entries.length, () => deps.publisher.publish('logs', converted.entries));
    deps.telemetry.recordsAccepted.inc({ protocol: 'otlp', kind: 'logs', tenant }, converted.entries.length);
    return answer(exportResponse('logs', format, converted, 'log records'));
  });

  app.post('/otlp/v1/traces', async (c) => {
    const { request, format } = await decode<TracesRequestMsg>(c, 'traces');
    const tenant = c.get('tenant');
    const converted = toSpans(tenant, request);
    // GenAI spans are also agent calls: one event each, written with the spans under one ack.
    const events = toAgentEvents(converted.spans);
    deps.telemetry.recordsReceived.inc({ protocol: 'otlp', kind: 'spans' }, converted.total);
    deps.telemetry.recordsReceived.inc({ protocol: 'otlp', kind: 'agentEvents' }, events.length);
    // Charged by spans, what the tenant sent: an event is a reading of a span, not more input.
    await deps.limiter.spend(tenant, converted.spans.length, () =>
      deps.publisher.publishAll([
        { kind: 'spans', spans: converted.spans },
        { kind: 'agentEvents', records: events },
      ]),
    );
    deps.telemetry.recordsAccepted.inc({ protocol: 'otlp', kind: 'spans', tenant }, converted.spans.length);
    deps.telemetry.recordsAccepted.inc({ protocol: 'otlp', kind: 'agentEvents', tenant }, events.length);
    return answer(exportResponse('traces', format, converted, 'spans'));
  });

  return app;
}

function answer(a: OtlpAnswer, status = 200): Response {
  return new Response(typeof a.body === 'string' ? a.body : new Uint8Array(a.body), { status, headers: { 'content-type': a.contentType } });
}

/** An OTLP path's error as OTLP senders read one: a google.rpc.Status in the request's encoding (JSON when it had none we read). */
export function otlpErrorResponse(c: Context<TenantEnv>, e: AutopilotError): Response {
  const a = statusResponse(otlpFormat(c.req.header('content-type')) ?? 'json', e);
  const response = answer(a, e.status);
  if (e.retryAfter !== undefined) response.headers.set('Retry-After', String(e.retryAfter));
  return response;
}
