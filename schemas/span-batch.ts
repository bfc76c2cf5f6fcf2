import { partitionOf, traceKey, type Span, type SpanBatch } from './topics.ts';

/**
 * Spans as batch records (span_batch.avsc): what the publisher builds from a
 * request's spans, and what the sink, tools and tests read back. A request's
 * spans are grouped by the partition of their trace key, so the spans of a
 * trace stay on one partition whichever request carried them; within a
 * record each resource and scope is written once. Times travel as
 * nanoseconds after the record's base millisecond: an epoch-ns value is above
 * 2^53, which no JavaScript number (nor avsc's long) holds exactly.
 */

/** Spans grouped by tenant and partition of their trace key, in the order they first appeared. */
export function partitionSpans(spans: readonly Span[], partitions: number): { partition: number; spans: Span[] }[] {
  const groups: { partition: number; tenant: string; spans: Span[] }[] = [];
  // Almost always one tenant: a group per partition, found by index; another tenant's spans search the list.
  const byPartition: ({ partition: number; tenant: string; spans: Span[] } | undefined)[] = new Array(partitions);
  for (const s of spans) {
    const partition = partitionOf(traceKey(s.tenant, s.trace_id), partitions);
    let group = byPartition[partition];
    if (group === undefined || group.tenant !== s.tenant) {
      group = groups.find((g) => g.partition === partition && g.tenant === s.tenant);
      if (!group) groups.push((group = { partition, tenant: s.tenant, spans: [] }));
      byPartition[partition] = group;
    }
    group.spans.push(s);
  }
  return groups.map((g) => ({ partition: g.partition, spans: g.spans }));
}

const mapBytes = (m: Record<string, string>) => {
  let bytes = 1;
  for (const k in m) bytes += 2 + k.length + m[k]!.length;
  return bytes;
};

/**
 * About how many bytes a span takes in a record: its strings (a UTF-16 unit
 * is at least one byte), maps, events and links, and its numbers. A lower
 * bound for non-ASCII text: a record cut by it may still encode too large,
 * and is halved then (see the publisher).
 */
export function spanBytes(s: Span): number {
  let bytes = 32 + s.trace_id.length + s.span_id.length + s.parent_span_id.length + s.trace_state.length + s.name.length + s.status_message.length;
  bytes += mapBytes(s.span_attributes);
  for (const e of s.events) bytes += 12 + e.name.length + mapBytes(e.attributes);
  for (const l of s.links) bytes += 4 + l.trace_id.length + l.span_id.length + l.trace_state.length + mapBytes(l.attributes);
  return bytes;
}
const resourceBytes = (s: Span) => 8 + s.service.length + s.scope_name.length + s.scope_version.length + mapBytes(s.resource_attributes);

/**
 * A partition's spans cut into groups of about `budget` bytes each (by the
 * estimate above; a resource counted again wherever it changes, an
 * overestimate): encoding the whole partition and halving it until it fits
 * would cost a full encoding per halving. A lone span over the budget goes
 * alone (and is judged by its real size).
 */
export function cutBySize(spans: readonly Span[], budget: number): Span[][] {
  const groups: Span[][] = [];
  let group: Span[] = [];
  let bytes = 0;
  let resource: Record<string, string> | undefined;
  for (const s of spans) {
    let size = spanBytes(s) + (s.resource_attributes === resource ? 0 : resourceBytes(s));
    if (group.length > 0 && bytes + size > budget) {
      groups.push(group);
      group = [];
      bytes = 0;
      if (s.resource_attributes === resource) size += resourceBytes(s); // a new record writes its resource again
    }
    group.push(s);
    bytes += size;
    resource = s.resource_attributes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** The spans cut in two, for a record that encodes over the size limit; undefined for a single span, which cannot be cut. */
export function halveSpans(spans: readonly Span[]): [Span[], Span[]] | undefined {
  if (spans.length < 2) return undefined;
  const mid = Math.ceil(spans.length / 2);
  return [spans.slice(0, mid), spans.slice(mid)];
}

/**
 * An epoch-ns double as whole milliseconds and the nanoseconds past them,
 * exactly: `%` on doubles is exact, and the quotient, off by less than a
 * nanosecond before rounding, rounds to the whole number it is.
 */
function splitNs(ns: number): [ms: number, rest: number] {
  const rest = ns % 1e6;
  return [Math.round((ns - rest) / 1e6), rest];
}

/** Nanoseconds after `base` ms, exactly while within 2^53 ns (104 days) of it. */
const nsAfter = (base: number, ns: number) => {
  const [ms, rest] = splitNs(ns);
  return (ms - base) * 1e6 + rest;
};

/** A time of a record (ns after its base) as epoch ms with a fraction: the unit the sink's DateTime64 columns take. */
export const msOf = (batch: SpanBatch, ns: number) => batch.base_timestamp + ns / 1e6;

/** A time of a record as epoch ns, the double nearest the exact value (what the span held before it was written). */
export const nsOf = (batch: SpanBatch, ns: number) => Number(BigInt(batch.base_timestamp) * 1_000_000n + BigInt(ns));

/** Equal resource attribute maps are one resource even as different objects: their content as a key, made once per object. */
const contentKeys = new WeakMap<Record<string, string>, string>();
function resourceKey(s: Span): string {
  let attributes = contentKeys.get(s.resource_attributes);
  if (attributes === undefined) contentKeys.set(s.resource_attributes, (attributes = JSON.stringify(Object.entries(s.resource_attributes))));
  return `${s.service}\u0000${s.scope_name}\u0000${s.scope_version}\u0000${attributes}`;
}

/** The record for these spans (one tenant): each resource and scope once, its spans after one another. */
export function toSpanBatch(spans: readonly Span[]): SpanBatch {
  const first = spans[0];
  const base = first ? splitNs(first.start_time_unix_nano)[0] : 0;
  const byResource = new Map<string, { resource: SpanBatch['resources'][number]; spans: SpanBatch['spans'] }>();
  for (const s of spans) {
    const key = resourceKey(s);
    let group = byResource.get(key);
    if (!group) {
      const resource = { service: s.service, attributes: s.resource_attributes, scope_name: s.scope_name, scope_version: s.scope_version, span_count: 0 };
      byResource.set(key, (group = { resource, spans: [] }));
    }
    group.resource.span_count++;
    group.spans.push({
      trace_id: s.trace_id,
      span_id: s.span_id,
      parent_span_id: s.parent_span_id,
      trace_state: s.trace_state,
      name: s.name,
      kind: s.kind,
      start_ns: nsAfter(base, s.start_time_unix_nano),
      duration_ns: s.duration_ns,
      status_code: s.status_code,
      status_message: s.status_message,
      attributes: s.span_attributes,
      events: s.events.map((e) => ({ time_ns: nsAfter(base, e.time_unix_nano), name: e.name, attributes: e.attributes })),
      links: s.links,
    });
  }
  const batch: SpanBatch = { tenant: first?.tenant ?? '', base_timestamp: base, resources: [], spans: [] };
  for (const g of byResource.values()) {
    batch.resources.push(g.resource);
    for (const s of g.spans) batch.spans.push(s);
  }
  return batch;
}

/**
 * Calls `each` for every span of `batch`, in record order, with its resource
 * (shared by the resource's spans: read it, never change it).
 */
export function forEachSpan(batch: SpanBatch, each: (resource: SpanBatch['resources'][number], span: SpanBatch['spans'][number]) => void): void {
  let at = 0;
  for (const r of batch.resources) {
    for (let end = at + r.span_count; at < end; at++) each(r, batch.spans[at]!);
  }
}

/** The spans of a batch record, in record order (for the publisher's regrouping, tests and tools). */
export function spansOf(batch: SpanBatch): Span[] {
  const spans: Span[] = [];
  forEachSpan(batch, (r, s) => {
    spans.push({
      tenant: batch.tenant,
      trace_id: s.trace_id,
      span_id: s.span_id,
      parent_span_id: s.parent_span_id,
      trace_state: s.trace_state,
      name: s.name,
      kind: s.kind,
      service: r.service,
      resource_attributes: r.attributes,
      scope_name: r.scope_name,
      scope_version: r.scope_version,
      span_attributes: s.attributes,
      start_time_unix_nano: nsOf(batch, s.start_ns),
      duration_ns: s.duration_ns,
      status_code: s.status_code,
      status_message: s.status_message,
      events: s.events.map((e) => ({ time_unix_nano: nsOf(batch, e.time_ns), name: e.name, attributes: e.attributes })),
      links: s.links,
    });
  });
  return spans;
}

/** How many spans a batch record carries. */
export const spanCount = (batch: SpanBatch): number => batch.spans.length;
