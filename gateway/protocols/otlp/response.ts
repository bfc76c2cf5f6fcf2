import type { AutopilotError } from '../../../lib/errors.ts';
import type { Rejections } from '../partial-write.ts';
import { protoType } from '../protobuf.ts';
import { responseType, type OtlpFormat, type OtlpSignal } from './decode.ts';

/**
 * OTLP/HTTP answers (https://opentelemetry.io/docs/specs/otlp/#otlphttp-response),
 * in the encoding the request came in:
 *
 * - 200 with an Export…ServiceResponse once everything accepted is
 *   acknowledged by Kafka; when some items could never be written, its
 *   `partial_success` counts them (`rejected_data_points`,
 *   `rejected_log_records`, `rejected_spans`) and says why. The sender must
 *   not retry those: a 200, not the 400 remote-write uses for the same case.
 * - an error as a google.rpc.Status: 400 (malformed; nothing written), 413,
 *   415, 401, and 429/503 with Retry-After, which OTLP exporters retry.
 */

const REJECTED_FIELD: Record<OtlpSignal, string> = { metrics: 'rejected_data_points', logs: 'rejected_log_records', traces: 'rejected_spans' };
const JSON_FIELD: Record<OtlpSignal, string> = { metrics: 'rejectedDataPoints', logs: 'rejectedLogRecords', traces: 'rejectedSpans' };

export interface OtlpAnswer {
  body: Uint8Array | string;
  contentType: string;
}

export function exportResponse(signal: OtlpSignal, format: OtlpFormat, r: Rejections, what: string): OtlpAnswer {
  const rejected = r.outOfWindow + r.invalid + (r.inconsistent ?? 0);
  const message = rejected === 0 ? '' : partialMessage(r, rejected, what);
  if (format === 'json') {
    const body = rejected === 0 ? {} : { partialSuccess: { [JSON_FIELD[signal]]: String(rejected), errorMessage: message } };
    return { body: JSON.stringify(body), contentType: 'application/json' };
  }
  const type = responseType(signal);
  const fields = rejected === 0 ? {} : { partial_success: { [REJECTED_FIELD[signal]]: rejected, error_message: message } };
  return { body: type.encode(type.fromObject(fields)).finish(), contentType: 'application/x-protobuf' };
}

function partialMessage(r: Rejections, rejected: number, what: string): string {
  const reasons = [
    r.outOfWindow > 0 ? `${r.outOfWindow} outside the accepted time window (the last 30 days to 1 day ahead)` : '',
    r.invalid > 0 ? `${r.invalid} with an invalid name, id or attributes` : '',
  ].filter(Boolean);
  const examples = r.problems.length > 0 ? `; for example: ${r.problems.join('; ')}` : '';
  return `${rejected} of ${r.total} ${what} were not written: ${reasons.join(', ')}${examples}`;
}

/** google.rpc.Status codes for the HTTP statuses the gateway answers with. */
const RPC_CODE: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 413: 3, 415: 3, 429: 8, 503: 14 };

export function statusResponse(format: OtlpFormat, e: AutopilotError): OtlpAnswer {
  const code = RPC_CODE[e.status] ?? 13;
  if (format === 'json') return { body: JSON.stringify({ code, message: e.message }), contentType: 'application/json' };
  const type = protoType('google-rpc-status.proto', 'google.rpc.Status');
  return { body: type.encode(type.fromObject({ code, message: e.message })).finish(), contentType: 'application/x-protobuf' };
}
