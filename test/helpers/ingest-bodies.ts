import { gzipSync } from 'node:zlib';
import snappy from 'snappy';
import { protoType } from '../../gateway/protocols/protobuf.ts';

/**
 * Request bodies as each ingest protocol's senders write them, for route
 * tests: JSON ingest items, Prometheus remote-write 1.0 and 2.0 (snappy
 * protobuf), Loki push (JSON, gzip JSON, snappy protobuf) and Alertmanager's
 * webhook (version 4). Times default to now, inside every accepted window.
 */

export const JSON_HEADERS = { 'content-type': 'application/json' };

export const metricItem = (over: Record<string, unknown> = {}) => ({
  timestamp: Date.now(),
  metric_name: 'http_latency_ms',
  value: 12.5,
  labels: { service: 'checkout' },
  ...over,
});
export const logItem = (over: Record<string, unknown> = {}) => ({
  timestamp: Date.now(),
  level: 'error',
  message: 'payment failed',
  service: 'checkout',
  ...over,
});
export const deploymentItem = (over: Record<string, unknown> = {}) => ({
  timestamp: Date.now(),
  service: 'checkout',
  version: 'v2',
  status: 'succeeded',
  ...over,
});

const WriteRequest = protoType('prometheus-remote-write-1.proto', 'prometheus.WriteRequest');
const RequestV2 = protoType('prometheus-remote-write-2.proto', 'io.prometheus.write.v2.Request');
const PushRequest = protoType('loki-push.proto', 'logproto.PushRequest');
const snappyProto = (type: typeof WriteRequest, message: object) => snappy.compressSync(type.encode(type.fromObject(message)).finish());

export const REMOTE_WRITE_V1_HEADERS = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };
export const REMOTE_WRITE_V2_HEADERS = {
  'content-type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '2.0.0',
};

export type Series = { labels: Record<string, string>; samples: { value: number; timestamp: number }[] };

/** One series per entry; `labels` include `__name__`. */
export function remoteWriteV1(series: Series[]): Buffer {
  return snappyProto(WriteRequest, {
    timeseries: series.map((s) => ({ labels: Object.entries(s.labels).map(([name, value]) => ({ name, value })), samples: s.samples })),
  });
}

/** The same in 2.0's form: labels as references into one symbol table (symbols[0] is ''). */
export function remoteWriteV2(series: Series[]): Buffer {
  const symbols = [''];
  const ref = (text: string) => (symbols.includes(text) ? symbols.indexOf(text) : symbols.push(text) - 1);
  const timeseries = series.map((s) => ({ labels_refs: Object.entries(s.labels).flatMap(([name, value]) => [ref(name), ref(value)]), samples: s.samples }));
  return snappyProto(RequestV2, { symbols, timeseries });
}

/** Prometheus's staleness marker: a NaN with this exact bit pattern. */
export const STALE_NAN = new Float64Array(new Uint32Array([0x00000002, 0x7ff00000]).buffer)[0]!;

export type LokiStream = { labels: Record<string, string>; lines: { ms: number; line: string }[] };

export function lokiJson(streams: LokiStream[]): string {
  return JSON.stringify({ streams: streams.map((s) => ({ stream: s.labels, values: s.lines.map((l) => [`${l.ms}000000`, l.line]) })) });
}

export const lokiGzipJson = (streams: LokiStream[]) => gzipSync(lokiJson(streams));

export function lokiProto(streams: LokiStream[]): Buffer {
  const labelSet = (labels: Record<string, string>) =>
    `{${Object.entries(labels)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(', ')}}`;
  const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
  return snappyProto(PushRequest, {
    streams: streams.map((s) => ({ labels: labelSet(s.labels), entries: s.lines.map((l) => ({ timestamp: at(l.ms), line: l.line })) })),
  });
}

export const LOKI_PROTO_HEADERS = { 'content-type': 'application/x-protobuf' };

export const alert = (over: Record<string, unknown> = {}) => ({
  status: 'firing',
  labels: { alertname: 'HighLatency', service: 'checkout', severity: 'critical' },
  annotations: { summary: 'p99 over 800 ms' },
  startsAt: new Date(Date.now() - 60_000).toISOString(),
  endsAt: '0001-01-01T00:00:00Z',
  fingerprint: 'c0ffee0123456789',
  ...over,
});

export const webhook = (alerts: unknown[]) => ({ version: '4', groupKey: '{}:{alertname="HighLatency"}', status: 'firing', receiver: 'autopilot', alerts });
