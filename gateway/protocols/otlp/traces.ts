import { sortKeys } from '../../../lib/labels.ts';
import { MAX_FUTURE_MS } from '../../../lib/time.ts';
import type { Span, SpanKind, SpanStatusCode } from '../../../schemas/topics.ts';
import { noteProblem, type Rejections } from '../partial-write.ts';
import { inWindow } from '../series-rules.ts';
import { attributeMap, scopeOf, serviceOf } from './attributes.ts';
import type { SpanMsg, TracesRequestMsg } from './messages.ts';

/**
 * OTLP traces → spans (the `spans` topic and table), in the shape of the
 * OpenTelemetry Collector ClickHouse exporter's traces table: ids as
 * lower-case hex, kind and status by name, attributes as sorted string maps
 * (attributes.ts), the resource's `service.name` as the service. What can
 * never be written is left out and counted, the rest written (the partial
 * success OTLP answers with `rejected_spans`):
 * - a span whose trace id is not 16 bytes, or whose span id is not 8, or
 *   either all zeros (the OTLP spec calls those invalid), or whose parent
 *   id is neither empty nor 8 bytes: invalid;
 * - a span starting outside the raw tables' window (30 days back, a day
 *   ahead), ending more than a day ahead, or with an event outside it: out
 *   of window (the sink would refuse it, and the TTL drop it).
 * A span that ends before it starts (an end time of 0: never ended) keeps a
 * duration of 0; an all-zero parent id is a root span's, as an empty one.
 */
export interface SpanConversion extends Rejections {
  spans: Span[];
}

const KINDS: readonly SpanKind[] = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS_CODES: readonly SpanStatusCode[] = ['Unset', 'Ok', 'Error'];

const hex = (id: Uint8Array) => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
const allZero = (id: Uint8Array) => id.every((b) => b === 0);
/** Epoch ns (a double) as epoch ms, the unit of the window rules. */
const msOf = (ns: number) => ns / 1e6;

export function toSpans(tenant: string, request: TracesRequestMsg, now = Date.now()): SpanConversion {
  const out: SpanConversion = { spans: [], total: 0, outOfWindow: 0, invalid: 0, problems: [] };
  for (const rs of request.resource_spans ?? []) {
    // Made once per resource and shared by its spans: the publisher writes a resource once per record.
    const service = serviceOf(rs.resource);
    const resource_attributes = sortKeys(attributeMap(rs.resource?.attributes));
    for (const ss of rs.scope_spans ?? []) {
      const scope = scopeOf(ss.scope);
      for (const span of ss.spans ?? []) {
        const index = out.total++;
        const invalid = idProblem(span);
        if (invalid) {
          out.invalid++;
          noteProblem(out, `span ${index} (${JSON.stringify(span.name)}): ${invalid}`);
          continue;
        }
        const outside = windowProblem(span, now);
        if (outside) {
          out.outOfWindow++;
          noteProblem(out, `span ${index} (${JSON.stringify(span.name)}): ${outside}, outside the accepted window`);
          continue;
        }
        const parent = span.parent_span_id ?? new Uint8Array(0);
        out.spans.push({
          tenant,
          trace_id: hex(span.trace_id),
          span_id: hex(span.span_id),
          parent_span_id: parent.length === 0 || allZero(parent) ? '' : hex(parent),
          trace_state: span.trace_state ?? '',
          name: span.name ?? '',
          kind: KINDS[span.kind] ?? 'Unspecified',
          service,
          resource_attributes,
          scope_name: scope.name,
          scope_version: scope.version,
          span_attributes: sortKeys(attributeMap(span.attributes)),
          start_time_unix_nano: span.start_time_unix_nano,
          duration_ns: Math.max(0, span.end_time_unix_nano - span.start_time_unix_nano),
          status_code: STATUS_CODES[span.status?.code ?? 0] ?? 'Unset',
          status_message: span.status?.message ?? '',
          events: (span.events ?? []).map((e) => ({ time_unix_nano: e.time_unix_nano, name: e.name ?? '', attributes: sortKeys(attributeMap(e.attributes)) })),
          links: (span.links ?? []).map((l) => ({
            trace_id: hex(l.trace_id ?? new Uint8Array(0)),
            span_id: hex(l.span_id ?? new Uint8Array(0)),
            trace_state: l.trace_state ?? '',
            attributes: sortKeys(attributeMap(l.attributes)),
          })),
        });
      }
    }
  }
  return out;
}

/** Why a span's ids make it invalid, or undefined. */
function idProblem(span: SpanMsg): string | undefined {
  const trace = span.trace_id ?? new Uint8Array(0);
  const id = span.span_id ?? new Uint8Array(0);
  const parent = span.parent_span_id ?? new Uint8Array(0);
  if (trace.length !== 16 || allZero(trace)) return `trace_id must be 16 bytes, not all zero (got ${JSON.stringify(hex(trace))})`;
  if (id.length !== 8 || allZero(id)) return `span_id must be 8 bytes, not all zero (got ${JSON.stringify(hex(id))})`;
  if (parent.length !== 0 && parent.length !== 8) return `parent_span_id must be empty or 8 bytes (got ${JSON.stringify(hex(parent))})`;
  return undefined;
}

/** Which of a span's times the raw tables cannot keep, or undefined. */
function windowProblem(span: SpanMsg, now: number): string | undefined {
  if (!inWindow(msOf(span.start_time_unix_nano), now)) return `start_time_unix_nano ${span.start_time_unix_nano}`;
  if (msOf(span.end_time_unix_nano) > now + MAX_FUTURE_MS) return `end_time_unix_nano ${span.end_time_unix_nano}`;
  const event = (span.events ?? []).findIndex((e) => !inWindow(msOf(e.time_unix_nano), now));
  if (event >= 0) return `event ${event} time_unix_nano ${span.events[event]!.time_unix_nano}`;
  return undefined;
}
