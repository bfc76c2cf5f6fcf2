import { AutopilotError, badRequest } from '../../lib/errors.ts';
import type { MetricPoint } from '../../schemas/topics.ts';
import { sortKeys } from '../records.ts';
import { contentEncoding, parseMediaType } from './media-type.ts';
import { noteProblem, type Rejections } from './partial-write.ts';
import { decodeProto, num, protoType } from './protobuf.ts';
import { inWindow, labelProblem, validMetricName } from './series-rules.ts';
import { uncompressSnappyBlock } from './snappy-block.ts';

/**
 * Prometheus remote-write, 1.0 (prometheus.WriteRequest) and 2.0
 * (io.prometheus.write.v2.Request), decoded into samples and native
 * histograms, then mapped to MetricPoints. Pure: no Kafka, no HTTP; every
 * bad input is an AutopilotError (4xx), never anything else.
 */

export interface PromSample {
  metric_name: string;
  /**
   * Every label but `__name__`, keys sorted. Shared by all samples of one
   * series (read-only): one object per series, not per sample.
   */
  labels: Record<string, string>;
  /** Epoch milliseconds. */
  timestamp: number;
  value: number;
  /** Prometheus's staleness marker: the series ended here; `value` means nothing then. */
  stale: boolean;
}

export interface PromHistogram {
  metric_name: string;
  labels: Record<string, string>;
  timestamp: number;
  /** Observation count: integer or float histograms alike. */
  count: number;
  sum: number;
  /** A stale native histogram (its sum is the staleness marker). */
  stale: boolean;
}

export interface RemoteWriteBatch {
  version: '1.0' | '2.0';
  samples: PromSample[];
  histograms: PromHistogram[];
  /** Exemplars received; counted, not kept (there is no exemplar storage). */
  exemplars: number;
  /** Metadata entries received (1.0: WriteRequest.metadata; 2.0: series that carry some); counted, not kept. */
  metadata: number;
  /**
   * Samples and histograms with a NaN or ±Inf value that is not a staleness
   * marker. Valid Prometheus data (an empty summary's quantiles are NaN), but
   * nothing downstream can baseline or alert on them: toMetricPoints accepts
   * and drops them, and they are not counted as rejected.
   */
  nonFinite: number;
}

export interface RemoteWriteHeaders {
  contentType?: string;
  contentEncoding?: string;
}

const V1_MESSAGE = 'prometheus.WriteRequest';
const V2_MESSAGE = 'io.prometheus.write.v2.Request';
const WRITE_REQUEST = protoType('prometheus-remote-write-1.proto', V1_MESSAGE);
const REQUEST_V2 = protoType('prometheus-remote-write-2.proto', V2_MESSAGE);

export function decodeRemoteWrite(body: Uint8Array, headers: RemoteWriteHeaders, limits: { maxDecodedBytes: number }): RemoteWriteBatch {
  const version = versionOf(headers.contentType);
  const encoding = contentEncoding(headers.contentEncoding);
  if (encoding === '') throw badRequest('Content-Encoding: snappy is required: remote-write bodies are snappy block-compressed');
  if (encoding !== 'snappy') {
    // The 2.0 spec ("Unsupported Request Content"): 415, so a sender may retry with another encoding.
    throw new AutopilotError('unsupported_media_type', `Content-Encoding ${encoding} is not accepted: remote-write bodies must be snappy (block format)`);
  }
  if (body.byteLength === 0) throw badRequest('empty body: send a snappy-compressed remote-write request');
  const payload = uncompressSnappyBlock(body, limits.maxDecodedBytes);
  return version === '1.0'
    ? fromV1(decodeProto<WriteRequestV1>(WRITE_REQUEST, payload), payload.length)
    : fromV2(decodeProto<RequestV2>(REQUEST_V2, payload), payload.length);
}

function versionOf(contentType: string | undefined): '1.0' | '2.0' {
  const media = parseMediaType(contentType);
  // Prometheus's own receiver reads a request without Content-Type as 1.0, for senders older than the header.
  if (!media) return '1.0';
  if (media.type === 'application/x-protobuf') {
    const proto = media.params.proto;
    if (proto === undefined || proto === V1_MESSAGE) return '1.0';
    if (proto === V2_MESSAGE) return '2.0';
  }
  throw new AutopilotError(
    'unsupported_media_type',
    `Content-Type ${contentType} is not accepted: send application/x-protobuf (remote-write 1.0) or application/x-protobuf;proto=${V2_MESSAGE} (2.0)`,
  );
}

// The shapes protobufjs decodes to (field names as in schemas/proto/).
interface LabelMsg {
  name: string;
  value: string;
}
interface SampleMsg {
  value: number;
  timestamp: unknown;
}
interface HistogramMsg {
  /** The oneof: which count field is set. */
  count?: 'count_int' | 'count_float';
  count_int: unknown;
  count_float: number;
  sum: number;
  timestamp: unknown;
}
interface WriteRequestV1 {
  timeseries: { labels: LabelMsg[]; samples: SampleMsg[]; exemplars: unknown[]; histograms: HistogramMsg[] }[];
  metadata: unknown[];
}
interface RequestV2 {
  symbols: string[];
  timeseries: {
    labels_refs: number[];
    samples: SampleMsg[];
    histograms: HistogramMsg[];
    exemplars: { labels_refs: number[] }[];
    metadata: { type: number; help_ref: number; unit_ref: number } | null;
  }[];
}

function emptyBatch(version: RemoteWriteBatch['version']): RemoteWriteBatch {
  return { version, samples: [], histograms: [], exemplars: 0, metadata: 0, nonFinite: 0 };
}

function fromV1(req: WriteRequestV1, payloadBytes: number): RemoteWriteBatch {
  if (payloadBytes > 0 && req.timeseries.length === 0 && req.metadata.length === 0) {
    // What a 2.0 body looks like through the 1.0 schema: its fields (4, 5) are unknown there.
    throw badRequest(`the body decodes to an empty ${V1_MESSAGE}: a ${V2_MESSAGE} sent without ;proto=${V2_MESSAGE} in Content-Type?`);
  }
  const batch = emptyBatch('1.0');
  batch.metadata = req.metadata.length;
  const series = new SeriesLabels();
  for (const ts of req.timeseries) {
    for (const label of ts.labels) series.add(label.name, label.value);
    addSeries(batch, series.name, series.take(), ts.samples, ts.histograms);
    batch.exemplars += ts.exemplars.length;
  }
  return batch;
}

function fromV2(req: RequestV2, payloadBytes: number): RemoteWriteBatch {
  const symbols = req.symbols;
  if (payloadBytes > 0 && symbols.length === 0 && req.timeseries.length === 0) {
    // What a 1.0 body looks like through the 2.0 schema: its fields (1 to 3) are reserved there.
    throw badRequest(`the body decodes to an empty ${V2_MESSAGE}: a ${V1_MESSAGE} sent with the 2.0 Content-Type?`);
  }
  const batch = emptyBatch('2.0');
  const series = new SeriesLabels();
  for (let i = 0; i < req.timeseries.length; i++) {
    const ts = req.timeseries[i]!;
    const refs = ts.labels_refs;
    checkRefs(refs, symbols.length, `timeseries[${i}].labels_refs`);
    for (let j = 0; j < refs.length; j += 2) series.add(symbols[refs[j]!]!, symbols[refs[j + 1]!]!);
    addSeries(batch, series.name, series.take(), ts.samples, ts.histograms);
    for (let e = 0; e < ts.exemplars.length; e++) checkRefs(ts.exemplars[e]!.labels_refs, symbols.length, `timeseries[${i}].exemplars[${e}].labels_refs`);
    batch.exemplars += ts.exemplars.length;
    const meta = ts.metadata;
    if (meta) {
      if (meta.help_ref >= symbols.length || meta.unit_ref >= symbols.length) {
        throw badRequest(`timeseries[${i}].metadata refers to a symbol past the end of the ${symbols.length} symbols`);
      }
      if (meta.type !== 0 || meta.help_ref !== 0 || meta.unit_ref !== 0) batch.metadata++;
    }
  }
  return batch;
}

function checkRefs(refs: number[], symbols: number, where: string): void {
  if (refs.length % 2 !== 0) throw badRequest(`${where} has an odd length (${refs.length}): it holds name, value pairs of symbol indexes`);
  for (const ref of refs) {
    if (ref >= symbols) throw badRequest(`${where} refers to symbol ${ref}, past the end of the ${symbols} symbols`);
  }
}

/**
 * Collects one series' labels: `__name__` apart, empty values dropped (in
 * Prometheus an empty label is an absent one), other `__`-prefixed names
 * dropped (reserved for Prometheus's internals, removed after relabelling;
 * this also keeps `__proto__` out of a plain object), keys sorted.
 */
class SeriesLabels {
  name = '';
  private labels: Record<string, string> = {};
  private sorted = true;
  private last = '';

  add(name: string, value: string): void {
    if (name === '__name__') this.name = value;
    else if (value !== '' && !name.startsWith('__')) {
      if (name < this.last) this.sorted = false;
      this.last = name;
      this.labels[name] = value;
    }
  }

  /** The labels collected since the last take, sorted; the next series starts empty. */
  take(): Record<string, string> {
    const labels = this.sorted ? this.labels : sortKeys(this.labels);
    this.labels = {};
    this.sorted = true;
    this.last = '';
    return labels;
  }
}

function addSeries(batch: RemoteWriteBatch, metric_name: string, labels: Record<string, string>, samples: SampleMsg[], histograms: HistogramMsg[]): void {
  for (const s of samples) {
    const value = s.value;
    const stale = isStaleMarker(value);
    if (!stale && !Number.isFinite(value)) batch.nonFinite++;
    batch.samples.push({ metric_name, labels, timestamp: num(s.timestamp), value, stale });
  }
  for (const h of histograms) {
    const count = h.count === 'count_float' ? h.count_float : num(h.count_int);
    const stale = isStaleMarker(h.sum);
    if (!stale && !(Number.isFinite(count) && Number.isFinite(h.sum))) batch.nonFinite++;
    batch.histograms.push({ metric_name, labels, timestamp: num(h.timestamp), count, sum: h.sum, stale });
  }
}

const bits = new DataView(new ArrayBuffer(8));

/** Prometheus's staleness marker: the NaN whose bits are exactly 0x7ff0000000000002 (other NaNs are values). */
export function isStaleMarker(value: number): boolean {
  if (!Number.isNaN(value)) return false;
  bits.setFloat64(0, value, true);
  return bits.getUint32(0, true) === 0x00000002 && bits.getUint32(4, true) === 0x7ff00000;
}

export interface MetricConversion extends Rejections {
  points: MetricPoint[];
  /** Staleness markers, value 0: when a series stopped. Never in `points`, never a value. */
  stale: MetricPoint[];
  /** NaN and ±Inf values: accepted and dropped (see RemoteWriteBatch.nonFinite). */
  nonFinite: number;
  /** Of the rejected (outOfWindow + invalid): how many were samples and how many histograms. */
  rejectedSamples: number;
  rejectedHistograms: number;
}

/**
 * Samples and histograms as MetricPoints. `labels.service` is `service`,
 * else `job`, else 'unknown' (consumers key series and rollups on it).
 * A native histogram becomes two points, `<name>_count` and `<name>_sum`.
 * Samples outside the retention window, or of a series whose name or labels
 * break records.ts's rules, are left out and counted: see partial-write.ts
 * for the answer the route owes the sender then.
 */
export function toMetricPoints(tenant: string, batch: RemoteWriteBatch, now = Date.now()): MetricConversion {
  const out: MetricConversion = {
    points: [],
    stale: [],
    total: batch.samples.length + batch.histograms.length,
    outOfWindow: 0,
    invalid: 0,
    nonFinite: 0,
    rejectedSamples: 0,
    rejectedHistograms: 0,
    problems: [],
  };
  const series = new SeriesCheck();

  const reject = (kind: 'sample' | 'histogram', problem: string, outOfWindow: boolean) => {
    if (outOfWindow) out.outOfWindow++;
    else out.invalid++;
    if (kind === 'sample') out.rejectedSamples++;
    else out.rejectedHistograms++;
    noteProblem(out, problem);
  };

  for (const s of batch.samples) {
    const labels = series.labels(s.labels);
    const problem = typeof labels === 'string' ? labels : validMetricName(s.metric_name) ? undefined : badName(s.metric_name);
    if (problem !== undefined) {
      reject('sample', `${s.metric_name || '(no __name__)'}: ${problem}`, false);
      continue;
    }
    if (!inWindow(s.timestamp, now)) {
      reject('sample', `${s.metric_name}: timestamp ${s.timestamp} is outside the accepted window`, true);
      continue;
    }
    const point: MetricPoint = { tenant, timestamp: s.timestamp, metric_name: s.metric_name, value: s.value, labels: labels as Record<string, string> };
    if (s.stale) {
      point.value = 0;
      out.stale.push(point);
    } else if (Number.isFinite(s.value)) out.points.push(point);
    else out.nonFinite++;
  }

  for (const h of batch.histograms) {
    const countName = `${h.metric_name}_count`;
    const sumName = `${h.metric_name}_sum`;
    const labels = series.labels(h.labels);
    const problem =
      typeof labels === 'string' ? labels : !validMetricName(countName) ? badName(countName) : !validMetricName(sumName) ? badName(sumName) : undefined;
    if (problem !== undefined) {
      reject('histogram', `${h.metric_name || '(no __name__)'}: ${problem}`, false);
      continue;
    }
    if (!inWindow(h.timestamp, now)) {
      reject('histogram', `${h.metric_name}: timestamp ${h.timestamp} is outside the accepted window`, true);
      continue;
    }
    const l = labels as Record<string, string>;
    if (h.stale) {
      out.stale.push({ tenant, timestamp: h.timestamp, metric_name: countName, value: 0, labels: l });
      out.stale.push({ tenant, timestamp: h.timestamp, metric_name: sumName, value: 0, labels: l });
    } else if (Number.isFinite(h.count) && Number.isFinite(h.sum)) {
      out.points.push({ tenant, timestamp: h.timestamp, metric_name: countName, value: h.count, labels: l });
      out.points.push({ tenant, timestamp: h.timestamp, metric_name: sumName, value: h.sum, labels: l });
    } else out.nonFinite++;
  }
  return out;
}

const badName = (name: string) =>
  name === '' ? 'the series has no __name__ label' : 'metric name must be letters, digits, _ : . - (Prometheus style), at most 200 characters';

/**
 * A series' labels checked and given `service`, once per series: samples of
 * one series share their labels object, so the last answer is reused while
 * the same object comes back.
 */
class SeriesCheck {
  private lastIn: Record<string, string> | undefined;
  private lastOut: Record<string, string> | string = '';

  /** The labels for MetricPoints, or what is wrong with them. */
  labels(input: Record<string, string>): Record<string, string> | string {
    if (input !== this.lastIn) {
      this.lastIn = input;
      this.lastOut = labelProblem(input) ?? (input.service ? input : withService(input, input.job || 'unknown'));
    }
    return this.lastOut;
  }
}

/** Sorted `labels` plus `service`, put in its place without sorting again (this runs once per series). */
function withService(labels: Record<string, string>, service: string): Record<string, string> {
  const out: Record<string, string> = {};
  let placed = false;
  for (const name in labels) {
    if (!placed && name > 'service') {
      out.service = service;
      placed = true;
    }
    out[name] = labels[name]!;
  }
  if (!placed) out.service = service;
  return out;
}

/**
 * The counts a 2.0 receiver must answer with (spec: "Required Written
 * Response Headers"), on success and on a 4xx alike. Pass the conversion
 * once it is known so that rejected samples are not counted as written.
 * Exemplars and NaN values are accepted by design and count as written.
 */
export function writtenHeaders(
  batch: RemoteWriteBatch,
  conversion?: Pick<MetricConversion, 'rejectedSamples' | 'rejectedHistograms'>,
): Record<string, string> {
  return {
    'X-Prometheus-Remote-Write-Samples-Written': String(batch.samples.length - (conversion?.rejectedSamples ?? 0)),
    'X-Prometheus-Remote-Write-Histograms-Written': String(batch.histograms.length - (conversion?.rejectedHistograms ?? 0)),
    'X-Prometheus-Remote-Write-Exemplars-Written': String(batch.exemplars),
  };
}
