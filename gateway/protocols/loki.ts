import { z } from 'zod';
import { AutopilotError, badRequest, describeError } from '../../lib/errors.ts';
import type { LogEntry } from '../../schemas/topics.ts';
import { level as levelInput, MAX_LOG_LINE, MAX_SERVICE } from '../records.ts';
import { parseLabelSet } from './label-set.ts';
import { contentEncoding, parseMediaType } from './media-type.ts';
import { gunzipLimited, tooLarge } from './gzip.ts';
import { noteProblem, type Rejections } from './partial-write.ts';
import { decodeProto, num, protoType } from './protobuf.ts';
import { inWindow, labelProblem } from './series-rules.ts';
import { uncompressSnappyBlock } from './snappy-block.ts';

/**
 * Loki's push API (POST /loki/api/v1/push), JSON or protobuf, decoded into
 * streams, then mapped to LogEntries. Pure: no Kafka, no HTTP; every bad
 * input is an AutopilotError (4xx), never anything else.
 */

export interface LokiEntry {
  /** Nanoseconds since the epoch, as decimal digits: exact, which a number past 2^53 would not be. */
  timestamp_ns: string;
  line: string;
  /** Structured metadata (Loki 3): per-entry labels such as trace_id. */
  metadata: Record<string, string>;
}

export interface LokiStream {
  labels: Record<string, string>;
  entries: LokiEntry[];
}

export interface LokiHeaders {
  contentType?: string;
  contentEncoding?: string;
}

const PUSH_REQUEST = protoType('loki-push.proto', 'logproto.PushRequest');

export function decodeLokiPush(body: Uint8Array, headers: LokiHeaders, limits: { maxDecodedBytes: number }): LokiStream[] {
  const media = parseMediaType(headers.contentType);
  const encoding = contentEncoding(headers.contentEncoding);
  // Loki reads a request without Content-Type as protobuf, as Promtail sends it.
  if (media === undefined || media.type === 'application/x-protobuf') {
    if (encoding !== '' && encoding !== 'snappy')
      throw unsupported(`Content-Encoding ${encoding} is not accepted for protobuf: the body is snappy (block format)`);
    if (body.byteLength === 0) throw badRequest('empty body: send a snappy-compressed logproto.PushRequest');
    return fromProto(decodeProto<PushRequestMsg>(PUSH_REQUEST, uncompressSnappyBlock(body, limits.maxDecodedBytes)));
  }
  if (media.type === 'application/json') {
    if (encoding !== '' && encoding !== 'gzip') throw unsupported(`Content-Encoding ${encoding} is not accepted for JSON: send it plain or gzip`);
    if (body.byteLength === 0) throw badRequest('empty body: send {"streams": [...]}');
    if (encoding === '' && body.byteLength > limits.maxDecodedBytes) throw tooLarge(body.byteLength, limits.maxDecodedBytes);
    const json = encoding === 'gzip' ? gunzipLimited(body, limits.maxDecodedBytes) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return fromJson(json.toString('utf8'));
  }
  throw unsupported(`Content-Type ${headers.contentType} is not accepted: send application/json or application/x-protobuf (snappy)`);
}

const unsupported = (message: string) => new AutopilotError('unsupported_media_type', message);

// JSON: {"streams": [{"stream": {"job": "api"}, "values": [["<ns>", "line", {"trace_id": "..."}]]}]}
const nanoseconds = z.string().regex(/^\d{1,19}$/, 'timestamps are strings of nanoseconds since the epoch, e.g. "1767225600000000000"');
const jsonPush = z.object({
  streams: z.array(
    z.object({
      stream: z.record(z.string(), z.string()),
      values: z.array(z.union([z.tuple([nanoseconds, z.string()]), z.tuple([nanoseconds, z.string(), z.record(z.string(), z.string())])])),
    }),
  ),
});

function fromJson(text: string): LokiStream[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw badRequest(`malformed JSON: ${describeError(err)}`);
  }
  const parsed = jsonPush.safeParse(body);
  if (!parsed.success) {
    const details = parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new AutopilotError(
      'bad_request',
      `invalid Loki push: ${details
        .slice(0, 3)
        .map((d) => `${d.path}: ${d.message}`)
        .join('; ')}`,
      { details },
    );
  }
  return parsed.data.streams.map((s, i) => ({
    labels: checkedStreamLabels(s.stream, i),
    entries: s.values.map(([timestamp_ns, line, metadata]) => ({ timestamp_ns, line, metadata: metadata ?? {} })),
  }));
}

interface PushRequestMsg {
  streams: {
    labels: string;
    entries: { timestamp: { seconds: unknown; nanos: number } | null; line: string; structuredMetadata: { name: string; value: string }[] }[];
  }[];
}

function fromProto(req: PushRequestMsg): LokiStream[] {
  return req.streams.map((s, i) => ({
    labels: checkedStreamLabels(parseLabelSet(s.labels), i),
    entries: s.entries.map((e) => {
      const metadata: Record<string, string> = {};
      for (const pair of e.structuredMetadata) metadata[pair.name] = pair.value;
      return { timestamp_ns: nanosOf(e.timestamp), line: e.line, metadata };
    }),
  }));
}

/** A google.protobuf.Timestamp as decimal nanoseconds; a missing one is 0, which no window accepts. */
function nanosOf(ts: { seconds: unknown; nanos: number } | null): string {
  const seconds = ts ? num(ts.seconds) : 0;
  const nanos = ts?.nanos ?? 0;
  if (seconds < 0 || nanos < 0 || nanos > 999_999_999) return '0';
  return seconds === 0 ? String(nanos) : `${seconds}${String(nanos).padStart(9, '0')}`;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Loki refuses a stream with no labels or a label name Prometheus would not accept: so does this. */
function checkedStreamLabels(labels: Record<string, string>, index: number): Record<string, string> {
  const names = Object.keys(labels);
  if (names.length === 0) throw badRequest(`streams[${index}] has no labels: at least one label is required per stream`);
  for (const name of names) {
    if (!LABEL_NAME.test(name)) throw badRequest(`streams[${index}]: label name ${JSON.stringify(name)} is not letters, digits and _`);
  }
  return labels;
}

export interface LogConversion extends Rejections {
  entries: LogEntry[];
}

const SERVICE_LABELS = ['service_name', 'service', 'app', 'job'] as const;
const LEVEL_LABELS = ['level', 'detected_level', 'severity', 'lvl'] as const;

/**
 * Streams as LogEntries. service: the first of service_name, service, app,
 * job; else 'unknown'. level: the first of level, detected_level, severity,
 * lvl (stream labels, then the entry's structured metadata), normalised as
 * records.ts does; else 'info'. The labels used for them are taken out, the
 * rest are kept with the entry's structured metadata (stream labels win a
 * name clash; `__`-prefixed names, reserved, are dropped). Entries outside
 * the retention window or breaking a length rule are left out and counted:
 * see partial-write.ts for the answer the route owes the sender then.
 */
export function toLogEntries(tenant: string, streams: LokiStream[], now = Date.now()): LogConversion {
  const out: LogConversion = { entries: [], total: 0, outOfWindow: 0, invalid: 0, problems: [] };
  for (const stream of streams) {
    out.total += stream.entries.length;
    const base = streamFields(stream.labels);
    for (const entry of stream.entries) {
      const timestamp = msOf(entry.timestamp_ns);
      let problem = base.problem;
      let labels = base.labels;
      let level = base.level;
      if (problem === undefined && hasKeys(entry.metadata)) {
        const merged: Record<string, string> = {};
        for (const name in entry.metadata) {
          if (!name.startsWith('__') && !Object.hasOwn(base.labels, name)) merged[name] = entry.metadata[name]!;
        }
        if (level === undefined) {
          const found = levelFrom(merged);
          if (found) {
            level = found.level;
            delete merged[found.label];
          }
        }
        labels = sortedMerge(base.labels, merged);
        problem = labelProblem(labels);
      }
      if (problem === undefined && entry.line.length > MAX_LOG_LINE) problem = `the line is longer than ${MAX_LOG_LINE} characters`;
      if (problem !== undefined) {
        out.invalid++;
        noteProblem(out, `stream ${JSON.stringify(stream.labels)}: ${problem}`);
        continue;
      }
      if (!inWindow(timestamp, now)) {
        out.outOfWindow++;
        noteProblem(out, `stream ${JSON.stringify(stream.labels)}: timestamp ${entry.timestamp_ns} ns is outside the accepted window`);
        continue;
      }
      out.entries.push({ tenant, timestamp, level: level ?? 'info', message: entry.line, service: base.service, labels });
    }
  }
  return out;
}

interface StreamFields {
  service: string;
  level: string | undefined;
  labels: Record<string, string>;
  problem: string | undefined;
}

/** What a stream's labels give all its entries, worked out once per stream. */
function streamFields(streamLabels: Record<string, string>): StreamFields {
  const labels: Record<string, string> = {};
  for (const name of Object.keys(streamLabels).sort()) {
    if (!name.startsWith('__')) labels[name] = streamLabels[name]!;
  }
  const serviceLabel = SERVICE_LABELS.find((name) => labels[name]);
  const service = serviceLabel ? labels[serviceLabel]! : 'unknown';
  if (serviceLabel) delete labels[serviceLabel];
  const found = levelFrom(labels);
  if (found) delete labels[found.label];
  const problem = service.length > MAX_SERVICE ? `service ${service.slice(0, 40)}… is longer than ${MAX_SERVICE} characters` : labelProblem(labels);
  return { service, level: found?.level, labels, problem };
}

/** The first level label whose value records.ts knows (warning → warn, …); an unknown value stays a label. */
function levelFrom(labels: Record<string, string>): { label: string; level: string } | undefined {
  for (const label of LEVEL_LABELS) {
    const raw = labels[label];
    if (raw === undefined) continue;
    const level = normalisedLevel(raw);
    if (level) return { label, level };
  }
  return undefined;
}

const knownLevels = new Map<string, string | null>();
function normalisedLevel(raw: string): string | null {
  let level = knownLevels.get(raw);
  if (level === undefined) {
    const parsed = levelInput.safeParse(raw);
    level = parsed.success ? parsed.data : null;
    if (knownLevels.size >= 1000) knownLevels.clear();
    knownLevels.set(raw, level);
  }
  return level;
}

/** Decimal nanoseconds to epoch milliseconds, without going through a number that cannot hold them. */
function msOf(ns: string): number {
  return ns.length > 6 ? Number(ns.slice(0, -6)) : 0;
}

function hasKeys(o: Record<string, string>): boolean {
  for (const _ in o) return true;
  return false;
}

/** Two label maps as one with sorted keys (`a` is sorted; `b` is small: an entry's metadata). */
function sortedMerge(a: Record<string, string>, b: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...Object.keys(a), ...Object.keys(b)].sort()) out[name] = Object.hasOwn(a, name) ? a[name]! : b[name]!;
  return out;
}
