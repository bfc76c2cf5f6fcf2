import protobuf from 'protobufjs';
import { AutopilotError, badRequest, describeError } from '../../../lib/errors.ts';
import { gunzipLimited, tooLarge } from '../gzip.ts';
import { contentEncoding, parseMediaType } from '../media-type.ts';
import { decodeMessage, protoType } from '../protobuf.ts';

/**
 * OTLP/HTTP request bodies (https://opentelemetry.io/docs/specs/otlp/#otlphttp):
 * binary protobuf (`application/x-protobuf`) or its proto3 JSON mapping
 * (`application/json`), either optionally gzip. Both come out in one shape,
 * the protobuf decoding's: snake_case field names, 64-bit integers as plain
 * numbers (exact to 2^53: nanosecond times to about 256 ns, counts exactly),
 * ids as bytes. JSON is read by the official messages themselves
 * (protobufjs fromObject on camelCase names) and re-encoded, so the two
 * encodings cannot drift apart; OTLP's own JSON rule, ids as hex rather than
 * base64, is applied first.
 */

export type OtlpSignal = 'metrics' | 'logs' | 'traces';
export type OtlpFormat = 'protobuf' | 'json';

const SERVICES: Record<OtlpSignal, { file: string; request: string; response: string }> = {
  metrics: {
    file: 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
    request: 'ExportMetricsServiceRequest',
    response: 'ExportMetricsServiceResponse',
  },
  logs: { file: 'opentelemetry/proto/collector/logs/v1/logs_service.proto', request: 'ExportLogsServiceRequest', response: 'ExportLogsServiceResponse' },
  traces: { file: 'opentelemetry/proto/collector/trace/v1/trace_service.proto', request: 'ExportTraceServiceRequest', response: 'ExportTraceServiceResponse' },
};
const packageOf = (signal: OtlpSignal) => `opentelemetry.proto.collector.${signal === 'traces' ? 'trace' : signal}.v1`;
const requestType = (signal: OtlpSignal) => protoType(SERVICES[signal].file, `${packageOf(signal)}.${SERVICES[signal].request}`);
export const responseType = (signal: OtlpSignal) => protoType(SERVICES[signal].file, `${packageOf(signal)}.${SERVICES[signal].response}`);

/** The same messages with the JSON mapping's lowerCamelCase field names, for fromObject. */
const jsonRoots = new Map<OtlpSignal, protobuf.Type>();
function jsonRequestType(signal: OtlpSignal): protobuf.Type {
  let type = jsonRoots.get(signal);
  if (!type) {
    const root = new protobuf.Root();
    const snake = requestType(signal).root;
    root.resolvePath = snake.resolvePath;
    root.loadSync(SERVICES[signal].file, { keepCase: false });
    jsonRoots.set(signal, (type = root.lookupType(`${packageOf(signal)}.${SERVICES[signal].request}`)));
  }
  return type;
}

export interface OtlpHeaders {
  contentType?: string;
  contentEncoding?: string;
}

export function otlpFormat(contentType: string | undefined): OtlpFormat | undefined {
  const media = parseMediaType(contentType);
  if (media?.type === 'application/x-protobuf') return 'protobuf';
  if (media?.type === 'application/json') return 'json';
  return undefined;
}

/** The request of `signal` in `body`; a 400/413/415 AutopilotError for anything else. */
export function decodeOtlp<T>(
  signal: OtlpSignal,
  body: Uint8Array,
  headers: OtlpHeaders,
  limits: { maxDecodedBytes: number },
): { request: T; format: OtlpFormat } {
  const format = otlpFormat(headers.contentType);
  if (!format)
    throw new AutopilotError(
      'unsupported_media_type',
      `Content-Type ${headers.contentType ?? '(none)'} is not OTLP/HTTP: send application/x-protobuf or application/json`,
    );
  const encoding = contentEncoding(headers.contentEncoding);
  if (encoding !== '' && encoding !== 'gzip')
    throw new AutopilotError('unsupported_media_type', `Content-Encoding ${encoding} is not accepted: send the body plain or gzip`);
  if (encoding === '' && body.byteLength > limits.maxDecodedBytes) throw tooLarge(body.byteLength, limits.maxDecodedBytes);
  const bytes = encoding === 'gzip' ? gunzipLimited(body, limits.maxDecodedBytes) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const type = requestType(signal);
  if (format === 'protobuf') {
    try {
      return { request: decodeMessage<T>(type, bytes), format };
    } catch (err) {
      throw badRequest(`malformed OTLP protobuf: the body is not a valid ${type.name} (${describeError(err)})`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw badRequest(`malformed OTLP JSON: ${describeError(err)}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw badRequest(`malformed OTLP JSON: the body must be an ${type.name} object`);
  try {
    const message = jsonRequestType(signal).fromObject(hexIdsToBytes(json, '') as Record<string, unknown>);
    return { request: decodeMessage<T>(type, jsonRequestType(signal).encode(message).finish()), format };
  } catch (err) {
    if (err instanceof AutopilotError) throw err;
    throw badRequest(`malformed OTLP JSON: ${describeError(err)}`);
  }
}

/** Fields OTLP/JSON writes as hex (the proto3 JSON mapping would say base64), in either spelling. */
const HEX_IDS: Record<string, number> = { traceId: 16, spanId: 8, parentSpanId: 8, trace_id: 16, span_id: 8, parent_span_id: 8 };

/** A copy of `value` whose hex id strings are bytes, so fromObject reads them as they were meant; a malformed id is a 400. */
function hexIdsToBytes(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => hexIdsToBytes(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === '__proto__') continue; // no OTLP field; unknown fields are ignored, and this one would set the prototype
    const at = path ? `${path}.${key}` : key;
    const length = HEX_IDS[key];
    if (length !== undefined && typeof v === 'string') {
      if (v !== '' && !(v.length === 2 * length && /^[0-9a-fA-F]+$/.test(v)))
        throw badRequest(`malformed OTLP JSON: ${at} must be ${2 * length} hex digits or empty, not ${JSON.stringify(v.slice(0, 40))}`);
      out[key] = Buffer.from(v, 'hex');
    } else out[key] = hexIdsToBytes(v, at);
  }
  return out;
}
