import { AutopilotError, badRequest } from '../../lib/errors.ts';
import type { MetricPoint } from '../../schemas/topics.ts';
import { sortKeys } from '../../lib/labels.ts';
import { contentEncoding, parseMediaType } from './media-type.ts';
import { histogramCount, histogramProblem, type HistogramMsg } from './native-histogram.ts';
import { MAX_PROBLEMS, noteProblem, type Rejections } from './partial-write.ts';
import { decodeProto, hasInvalidUtf8, num, printable, protoType } from './protobuf.ts';
import { inWindow, labelProblem, METRIC_NAME_RULE, validMetricName } from './series-rules.ts';
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
  /** Why Prometheus would refuse it (count and buckets disagree, …); see native-histogram.ts. */
  problem: string | undefined;
}

export interface RemoteWriteBatch {
  version: '1.0' | '2.0';
  samples: PromSample[];
  histograms: PromHistogram[];
  /** Exemplars received; counted, not kept (there is no exemplar storage). */
  exemplars: number;
  /** Metadata entries received (1.0: WriteRequest.metadata; 2.0: series that carry some); counted, not kept. */
  metadata: number;
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
  // Names and values that are not valid UTF-8 come back marked, to be refused series by series (series-rules.ts).
  return version === '1.0'
    ? fromV1(decodeProto<WriteRequestV1>(WRITE_REQUEST, payload, { markInvalidUtf8: true }), payload.length)
    : fromV2(decodeProto<RequestV2>(REQUEST_V2, payload, { markInvalidUtf8: true }), payload.length);
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
  return { version, samples: [], histograms: [], exemplars: 0, metadata: 0 };
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
    batch.samples.push({ metric_name, labels, timestamp: num(s.timestamp), value, stale: isStaleMarker(value) });
  }
  for (const h of histograms) {
    batch.histograms.push({
      metric_name,
      labels,
      timestamp: num(h.timestamp),
      count: histogramCount(h),
      sum: h.sum,
      stale: isStaleMarker(h.sum),
      problem: histogramProblem(h),
    });
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
  /** Native histograms refused by native-histogram.ts's rules. */
  inconsistent: number;
  /** Of the rejected (outOfWindow + invalid + inconsistent): how many were samples and how many histograms. */
  rejectedSamples: number;
  rejectedHistograms: number;
}

/**
 * Samples and histograms as MetricPoints. `labels.service` is `service`,
 * else `job`, else 'unknown' (consumers key series and rollups on it).
 * A native histogram becomes two points, `<name>_count` and `<name>_sum`.
 * NaN and ±Inf are values like any other, kept as Prometheus keeps them (an
 * empty summary's quantiles are NaN); only the staleness marker is not a value.
 * Samples outside the retention window, of a series whose name or labels
 * break the rules of series-rules.ts, and native histograms whose counts
 * disagree (native-histogram.ts) are left out and counted: see
 * partial-write.ts for the answer the route owes the sender then.
 */
export function toMetricPoints(tenant: string, batch: RemoteWriteBatch, now = Date.now()): MetricConversion {
  const out: MetricConversion = {
    points: [],
    stale: [],
    total: batch.samples.length + batch.histograms.length,
    outOfWindow: 0,
    invalid: 0,
    inconsistent: 0,
    rejectedSamples: 0,
    rejectedHistograms: 0,
    problems: [],
  };
  const series = new SeriesCheck();

  const reject = (kind: 'sample' | 'histogram', item: PromSample | PromHistogram, problem: string, why: 'outOfWindow' | 'invalid' | 'inconsistent') => {
    out[why]++;
    if (kind === 'sample') out.rejectedSamples++;
    else out.rejectedHistograms++;
    // Naming the series costs a string per item: only while there is room for another example.
    if (out.problems.length < MAX_PROBLEMS) noteProblem(out, `${seriesText(item.metric_name, item.labels)}: ${problem}`);
  };

  for (const s of batch.samples) {
    const labels = series.labels(s.labels);
    const problem = typeof labels === 'string' ? labels : validMetricName(s.metric_name) ? undefined : badName(s.metric_name);
    if (problem !== undefined) {
      reject('sample', s, problem, 'invalid');
      continue;
    }
    if (!inWindow(s.timestamp, now)) {
      reject('sample', s, `timestamp ${s.timestamp} is outside the accepted window`, 'outOfWindow');
      continue;
    }
    const point: MetricPoint = { tenant, timestamp: s.timestamp, metric_name: s.metric_name, value: s.value, labels: labels as Record<string, string> };
    if (s.stale) {
      point.value = 0;
      out.stale.push(point);
    } else out.points.push(point);
  }

  for (const h of batch.histograms) {
    const countName = `${h.metric_name}_count`;
    const sumName = `${h.metric_name}_sum`;
    const labels = series.labels(h.labels);
    const problem =
      typeof labels === 'string' ? labels : !validMetricName(countName) ? badName(countName) : !validMetricName(sumName) ? badName(sumName) : undefined;
    if (problem !== undefined) {
      reject('histogram', h, problem, 'invalid');
      continue;
    }
    if (h.problem !== undefined) {
      reject('histogram', h, `native histogram refused: ${h.problem}`, 'inconsistent');
      continue;
    }
    if (!inWindow(h.timestamp, now)) {
      reject('histogram', h, `timestamp ${h.timestamp} is outside the accepted window`, 'outOfWindow');
      continue;
    }
    const l = labels as Record<string, string>;
    if (h.stale) {
      out.stale.push({ tenant, timestamp: h.timestamp, metric_name: countName, value: 0, labels: l });
      out.stale.push({ tenant, timestamp: h.timestamp, metric_name: sumName, value: 0, labels: l });
    } else {
      out.points.push({ tenant, timestamp: h.timestamp, metric_name: countName, value: h.count, labels: l });
      out.points.push({ tenant, timestamp: h.timestamp, metric_name: sumName, value: h.sum, labels: l });
    }
  }
  return out;
}

const badName = (name: string) =>
  name === '' ? 'the series has no __name__ label' : hasInvalidUtf8(name) ? 'the metric name is not valid UTF-8' : `metric name must be ${METRIC_NAME_RULE}`;

const SERIES_TEXT_MAX = 300;

/** A series as Prometheus prints one, `name{label="value", …}`, cut short for an error message. */
function seriesText(name: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${printable(k)}=${JSON.stringify(printable(v))}`);
  const text = `${printable(name) || '(no __name__)'}{${pairs.join(', ')}}`;
  return text.length > SERIES_TEXT_MAX ? `${text.slice(0, SERIES_TEXT_MAX)}…}` : text;
}

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
 * Exemplars are accepted by design (not kept) and count as written.
 */
export function writtenHeaders(batch: RemoteWriteBatch, conversion?: Pick<MetricConversion, 'rejectedSamples' | 'rejectedHistograms'>): Record<string, string> {
  return {
    'X-Prometheus-Remote-Write-Samples-Written': String(batch.samples.length - (conversion?.rejectedSamples ?? 0)),
    'X-Prometheus-Remote-Write-Histograms-Written': String(batch.histograms.length - (conversion?.rejectedHistograms ?? 0)),
    'X-Prometheus-Remote-Write-Exemplars-Written': String(batch.exemplars),
  };
}
