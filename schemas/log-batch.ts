import type { LogBatch, LogEntry } from './topics.ts';
import { symbolInterner } from './symbols.ts';
import { sameLabels } from '../lib/labels.ts';

/**
 * Log lines as batch records (log_batch.avsc): what the publisher builds from
 * a request's lines, and what tools and tests read back (processors loop over
 * the columns themselves: processors/runtime/log-batches.ts). A request's
 * lines are grouped into streams (tenant, service and labels), and the
 * streams by the partition of their tenant and service: a service's lines
 * stay on the partition of its deployments, anomalies and incidents
 * whichever request carried them.
 */

/** One stream of a batch being built, with the request index of each of its lines (errors name the item). */
export interface LogStream {
  tenant: string;
  service: string;
  /** Sorted by name (lib/labels.ts); shared, never changed. */
  labels: Record<string, string>;
  /** FNV-1a of the tenant and service key: its partition is `hash % partitions`, the one partitionOf(serviceKey) gives. */
  hash: number;
  timestamps: number[];
  levels: string[];
  messages: string[];
  items: number[];
}

const FNV_PRIME = 0x01000193;

function fnv(hash: number, s: string): number {
  for (let i = 0; i < s.length; i++) hash = Math.imul(hash ^ s.charCodeAt(i), FNV_PRIME);
  return hash;
}

/**
 * FNV-1a over `tenant \u0000 service` as partitionOf(serviceKey(…)) computes
 * it, without building the key (the NUL between is a multiply: FNV of 0).
 */
export function serviceHash(tenant: string, service: string): number {
  return fnv(Math.imul(fnv(0x811c9dc5, tenant), FNV_PRIME), service) >>> 0;
}

/** A stream's identity hash (tenant, service, every label name and value), only ever confirmed, never trusted. */
function streamHash(tenant: string, service: string, labels: Record<string, string>): number {
  let hash = fnv(Math.imul(fnv(0x811c9dc5, tenant), FNV_PRIME), service);
  for (const name in labels) hash = fnv(Math.imul(fnv(Math.imul(hash, FNV_PRIME), name), FNV_PRIME), labels[name]!);
  return hash & 0x3fffffff; // a small integer: V8's Maps hash those cheapest
}

/**
 * A request's streams, each once, in the order they first appeared. A line
 * whose labels object is the previous line's (a Loki stream's lines share
 * theirs) joins that stream at once; any other is found by a hash of its
 * stream and confirmed label by label.
 */
export class StreamSet {
  readonly streams: LogStream[] = [];
  private readonly byHash = new Map<number, LogStream | LogStream[]>();
  private last: LogStream | undefined;

  add(tenant: string, service: string, labels: Record<string, string>, item: number, timestamp: number, level: string, message: string): LogStream {
    let s = this.last;
    if (s === undefined || s.labels !== labels || s.service !== service || s.tenant !== tenant) s = this.last = this.find(tenant, service, labels);
    s.timestamps.push(timestamp);
    s.levels.push(level);
    s.messages.push(message);
    s.items.push(item);
    return s;
  }

  private find(tenant: string, service: string, labels: Record<string, string>): LogStream {
    const key = streamHash(tenant, service, labels);
    const there = this.byHash.get(key);
    if (there !== undefined) {
      for (const s of Array.isArray(there) ? there : [there]) if (sameStream(s, tenant, service, labels)) return s;
    }
    const s: LogStream = { tenant, service, labels, hash: serviceHash(tenant, service), timestamps: [], levels: [], messages: [], items: [] };
    if (there === undefined) this.byHash.set(key, s);
    else if (Array.isArray(there)) there.push(s);
    else this.byHash.set(key, [there, s]);
    this.streams.push(s);
    return s;
  }
}

function sameStream(s: LogStream, tenant: string, service: string, labels: Record<string, string>): boolean {
  return s.tenant === tenant && s.service === service && sameLabels(s.labels, labels);
}

/** Lines as streams: the shape the publisher encodes. */
export function streamsOf(entries: readonly LogEntry[]): LogStream[] {
  const set = new StreamSet();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    set.add(e.tenant, e.service, e.labels, i, e.timestamp, e.level, e.message);
  }
  return set.streams;
}

/** Streams grouped by tenant and partition, in the order they first appeared. */
export function partitionStreams(streams: readonly LogStream[], partitions: number): { partition: number; streams: LogStream[] }[] {
  const groups: { partition: number; tenant: string; streams: LogStream[] }[] = [];
  for (const s of streams) {
    const partition = s.hash % partitions;
    let group = groups.find((g) => g.partition === partition && g.tenant === s.tenant);
    if (!group) groups.push((group = { partition, tenant: s.tenant, streams: [] }));
    group.streams.push(s);
  }
  return groups.map((g) => ({ partition: g.partition, streams: g.streams }));
}

/**
 * About how many bytes a line takes in a record: its text (a UTF-16 unit is
 * at least one byte) and its time, level and length. A lower bound for
 * non-ASCII text: a record cut by it may still encode too large, and is
 * halved then (see the publisher).
 */
const lineBytes = (message: string) => message.length + 16;
const streamBytes = (s: LogStream) => {
  let bytes = 16 + s.service.length;
  for (const name in s.labels) bytes += 4 + name.length + s.labels[name]!.length;
  return bytes;
};

/**
 * A partition's streams cut into groups of about `budget` bytes each (by the
 * estimate above), a stream's lines continuing in the next group when it
 * does not fit: encoding the whole partition and halving it until it fits
 * cost a full encoding per halving, and a Loki push may be many megabytes.
 */
export function cutBySize(streams: readonly LogStream[], budget: number): LogStream[][] {
  const groups: LogStream[][] = [];
  let group: LogStream[] = [];
  let bytes = 0;
  for (const s of streams) {
    const head = streamBytes(s);
    const n = s.messages.length;
    for (let from = 0; from < n; ) {
      if (group.length > 0 && bytes + head + lineBytes(s.messages[from]!) > budget) {
        groups.push(group);
        group = [];
        bytes = 0;
      }
      // At least one line per part: a lone line over the budget still goes (and is judged by its real size).
      let to = from;
      let size = head;
      do size += lineBytes(s.messages[to++]!);
      while (to < n && bytes + size + lineBytes(s.messages[to]!) <= budget);
      group.push(from === 0 && to === n ? s : slice(s, from, to));
      bytes += size;
      from = to;
    }
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function slice(s: LogStream, from: number, to: number): LogStream {
  return {
    ...s,
    timestamps: s.timestamps.slice(from, to),
    levels: s.levels.slice(from, to),
    messages: s.messages.slice(from, to),
    items: s.items.slice(from, to),
  };
}

/**
 * The streams cut in two, for a record that encodes over the size limit: by
 * stream when there are several, else the one stream's lines (a stream over
 * two records is still one stream: rows are keyed by content). Undefined for
 * a single line, which cannot be cut.
 */
export function halveStreams(streams: readonly LogStream[]): [LogStream[], LogStream[]] | undefined {
  if (streams.length > 1) {
    const mid = Math.ceil(streams.length / 2);
    return [streams.slice(0, mid), streams.slice(mid)];
  }
  const [s] = streams;
  if (!s || s.messages.length < 2) return undefined;
  const mid = Math.ceil(s.messages.length / 2);
  return [[slice(s, 0, mid)], [slice(s, mid, s.messages.length)]];
}

/** The record for these streams (one tenant): symbols interned in order of first use, lines in three columns. */
export function toLogBatch(streams: readonly LogStream[]): LogBatch {
  const { symbols, ref } = symbolInterner();
  const base = streams[0]?.timestamps[0] ?? 0;
  const batch: LogBatch = { tenant: streams[0]?.tenant ?? '', base_timestamp: base, symbols, streams: [], timestamps: [], levels: [], messages: [] };
  for (const s of streams) {
    const service_ref = ref(s.service);
    const labels_refs: number[] = [];
    for (const name in s.labels) labels_refs.push(ref(name), ref(s.labels[name]!));
    batch.streams.push({ service_ref, labels_refs, entry_count: s.messages.length });
    for (let i = 0; i < s.messages.length; i++) {
      batch.timestamps.push(s.timestamps[i]! - base);
      batch.levels.push(s.levels[i]!);
      batch.messages.push(s.messages[i]!);
    }
  }
  return batch;
}

/** A stream's labels from a record, as a fresh object. */
export function labelsOf(batch: LogBatch, refs: readonly number[]): Record<string, string> {
  const labels: Record<string, string> = {};
  const symbols = batch.symbols;
  for (let i = 0; i < refs.length; i += 2) {
    const name = symbols[refs[i]!]!;
    // Assignment, the cheap way, except for __proto__: assigning that would set the prototype, not a label.
    if (name === '__proto__') Object.defineProperty(labels, name, { value: symbols[refs[i + 1]!]!, enumerable: true, writable: true, configurable: true });
    else labels[name] = symbols[refs[i + 1]!]!;
  }
  return labels;
}

/** The lines of a batch record, in record order (for tests and tools that want one object per line). */
export function entriesOf(batch: LogBatch): LogEntry[] {
  const entries: LogEntry[] = [];
  let at = 0;
  for (const s of batch.streams) {
    const service = batch.symbols[s.service_ref]!;
    const labels = labelsOf(batch, s.labels_refs);
    for (let k = 0; k < s.entry_count; k++, at++) {
      entries.push({
        tenant: batch.tenant,
        timestamp: batch.base_timestamp + batch.timestamps[at]!,
        level: batch.levels[at]!,
        message: batch.messages[at]!,
        service,
        labels,
      });
    }
  }
  return entries;
}
