import { Counter, Histogram, type Registry } from 'prom-client';

/** The gateway's own counters, on the component registry served at /metrics. */
export function gatewayTelemetry(registry: Registry) {
  return {
    requests: new Counter({
      name: 'autopilot_gateway_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    recordsReceived: new Counter({
      name: 'autopilot_gateway_records_received_total',
      help: 'Records decoded from requests, before validation, by protocol (json, remote_write, loki, alertmanager) and kind',
      labelNames: ['protocol', 'kind'],
      registers: [registry],
    }),
    // Per tenant for self-monitoring (the Pipeline health dashboard's $tenant); GET /metrics, which needs no
    // key, sums the tenants away unless AUTOPILOT_METRICS_TENANT_LABELS=true (lib/metrics-page.ts).
    recordsAccepted: new Counter({
      name: 'autopilot_gateway_records_accepted_total',
      help: 'Records acknowledged by Kafka and answered 2xx (written), by protocol and kind',
      labelNames: ['protocol', 'kind', 'tenant'],
      registers: [registry],
    }),
    recordsDropped: new Counter({
      name: 'autopilot_gateway_records_dropped_total',
      help: 'Records accepted in a 2xx request but not written, by protocol and reason (e.g. outside retention)',
      labelNames: ['protocol', 'reason'],
      registers: [registry],
    }),
    requestsRefused: new Counter({
      name: 'autopilot_gateway_requests_refused_total',
      help: 'Requests refused with an error (nothing of them written), by protocol and error code',
      labelNames: ['protocol', 'code'],
      registers: [registry],
    }),
    recordsProduced: new Counter({
      name: 'autopilot_gateway_records_produced_total',
      help: 'Records produced to Kafka, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    produceSeconds: new Histogram({
      name: 'autopilot_gateway_produce_seconds',
      help: 'Time from send to Kafka acknowledgement (acks=all), per batch',
      labelNames: ['kind'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'autopilot_gateway_request_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
export type GatewayTelemetry = ReturnType<typeof gatewayTelemetry>;
