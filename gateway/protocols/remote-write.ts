import { AutopilotError, badRequest, describeError } from '../../lib/errors.ts';
import { sortKeys } from '../../lib/labels.ts';
import { pointsOfSeries, SeriesSet, seriesHash, type SeriesEntry } from '../../schemas/metric-batch.ts';
import type { MetricPoint } from '../../schemas/topics.ts';
import { contentEncoding, parseMediaType } from './media-type.ts';
import { histogramCount, histogramProblem, type HistogramMsg } from './native-histogram.ts';
import { MAX_PROBLEMS, noteProblem, type Rejections } from './partial-write.ts';
import { decodeMessage, hasInvalidUtf8, num, printable, protoType } from './protobuf.ts';
import { validMetricName } from '../records.ts';
import { inWindow, labelProblem, METRIC_NAME_RULE } from './series-rules.ts';
import { SeriesCache, type SeriesId } from './series-cache.ts';
import { uncompressSnappyBlock } from './snappy-block.ts';
import { FIXED64, LENGTH_DELIMITED, VARINT, WireReader } from './wire.ts';

/**
 * Prometheus remote-write, 1.0 (prometheus.WriteRequest) and 2.0
 * (io.prometheus.write.v2.Request), decoded series by series (labels once,
 * samples as two columns: no object per sample), then mapped to the series
 * the publisher writes. Pure: no Kafka, no HTTP; every bad input is an
 * AutopilotError (4xx), never anything else.
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

/** One TimeSeries of a request: its labels once, its samples a run of the batch's two columns. */
export interface PromSeries {
  /** Its name and labels; the same object for the same series in later requests while series-cache.ts keeps it. */
  id: SeriesId;
  /** Where its samples start in the batch's `timestamps` and `values`, and how many there are. */
  start: number;
  count: number;
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

/** A decoded request: samples series by series in two columns (no object per sample), native histograms one by one. */
export class RemoteWriteBatch {
  readonly series: PromSeries[] = [];
  /** Every sample's time (epoch ms), series after series. */
  readonly timestamps: number[] = [];
  /** Aligned with `timestamps`. */
  readonly values: number[] = [];
  /**
   * Which samples (indexes into the columns) are staleness markers. Their
   * value is a NaN in `values`, but not the marker's NaN: V8 keeps one NaN
   * in arrays of numbers, so the marker is recognised as it is read.
   */
  readonly stale = new Set<number>();
  readonly histograms: PromHistogram[] = [];
  /** Samples in `series`, all together. */
  sampleCount = 0;
  /** Exemplars received; counted, not kept (there is no exemplar storage). */
  exemplars = 0;
  /** Metadata entries received (1.0: WriteRequest.metadata; 2.0: series that carry some); counted, not kept. */
  metadata = 0;

  constructor(readonly version: '1.0' | '2.0') {}

  /** The samples one object each, in request order: for tests and tools; the gateway itself never asks. */
  get samples(): PromSample[] {
    return this.series.flatMap(({ id: { metric_name, labels }, start, count }) =>
      Array.from({ length: count }, (_, i) => {
        const stale = this.stale.has(start + i);
        return { metric_name, labels, timestamp: this.timestamps[start + i]!, value: stale ? STALE_MARKER : this.values[start + i]!, stale };
      }),
    );
  }
}

export interface RemoteWriteHeaders {
  contentType?: string;
  contentEncoding?: string;
}

const V1_MESSAGE = 'prometheus.WriteRequest';
const V2_MESSAGE = 'io.prometheus.write.v2.Request';

export function decodeRemoteWrite(body: Uint8Array, headers: RemoteWriteHeaders, limits: { maxDecodedBytes: number }): RemoteWriteBatch {
  const version = versionOf(headers.contentType);
  const encoding = contentEncoding(headers.contentEncoding);
  if (encoding === '') throw badRequest('Content-Encoding: snappy is required: remote-write bodies are snappy block-compressed');
  if (encoding !== 'snappy') {
    // The 2.0 spec ("Unsupported Request Content"): 415, so a sender may retry with another encoding.
    throw new AutopilotError('unsupported_media_type', `Content-Encoding ${encoding} is not accepted: remote-write bodies must be snappy (block format)`);
  }
  if (body.byteLength === 0) throw badRequest('empty body: send a snappy-compressed remote-write request');
  // Transient: nothing decoded keeps a view of these bytes (strings are copies, the series cache copies its keys).
  const payload = uncompressSnappyBlock(body, limits.maxDecodedBytes, { transient: true });
  try {
    // Names and values that are not valid UTF-8 come back marked, to be refused series by series (series-rules.ts).
    return version === '1.0' ? fromV1(payload) : fromV2(payload);
  } catch (err) {
    if (err instanceof AutopilotError) throw err;
    throw badRequest(`malformed protobuf: the body is not a valid ${version === '1.0' ? V1_MESSAGE : V2_MESSAGE} (${describeError(err)})`);
  }
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

/** prometheus.WriteRequest: timeseries = 1, metadata = 3. */
function fromV1(payload: Buffer): RemoteWriteBatch {
  const batch = new RemoteWriteBatch('1.0');
  const r = new WireReader(payload);
  const series = new SeriesLabels();
  let timeseries = 0;
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === TIMESERIES_V1) {
      readSeriesV1(batch, r, series);
      timeseries++;
    } else if (tag === METADATA_V1) {
      r.skip(LENGTH_DELIMITED);
      batch.metadata++;
    } else r.skip(tag & 7);
  }
  if (payload.length > 0 && timeseries === 0 && batch.metadata === 0) {
    // What a 2.0 body looks like through the 1.0 schema: its fields (4, 5) are unknown there.
    throw badRequest(`the body decodes to an empty ${V1_MESSAGE}: a ${V2_MESSAGE} sent without ;proto=${V2_MESSAGE} in Content-Type?`);
  }
  return batch;
}

const tagOf = (field: number, wireType: number) => (field << 3) | wireType;
const TIMESERIES_V1 = tagOf(1, LENGTH_DELIMITED);
const METADATA_V1 = tagOf(3, LENGTH_DELIMITED);

/**
 * prometheus.TimeSeries (labels = 1, samples = 2, exemplars = 3,
 * histograms = 4), whose tag was just read. Its labels come first (Prometheus
 * writes them so): their bytes find the series in the cache, and are only
 * decoded for a series not seen lately.
 */
function readSeriesV1(batch: RemoteWriteBatch, r: WireReader, series: SeriesLabels): void {
  const outer = r.enter();
  const start = r.pos;
  const end = r.end;
  let labelsEnd = start;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag !== LABELS_V1) {
      r.pos = labelsEnd;
      break;
    }
    r.skip(LENGTH_DELIMITED);
    labelsEnd = r.pos;
  }
  const first = batch.timestamps.length;
  let histograms: HistogramMsg[] | undefined;
  let scattered = false; // labels after other fields: the leading ones are not the whole series
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === SAMPLES) readSample(r, batch);
    else if (tag === LABELS_V1) {
      scattered = true;
      r.skip(LENGTH_DELIMITED);
    } else if (tag === EXEMPLARS_V1) {
      r.skip(LENGTH_DELIMITED);
      batch.exemplars++;
    } else if (tag === HISTOGRAMS_V1) (histograms ??= []).push(readHistogram(r, HISTOGRAM_V1));
    else r.skip(tag & 7);
  }
  let id = scattered ? undefined : seriesCache.find(r.buf, r.view, start, labelsEnd);
  if (id === undefined) {
    r.pos = start;
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag === LABELS_V1) readLabel(r, series);
      else r.skip(tag & 7);
    }
    id = series.take();
    if (!scattered) seriesCache.add(r.buf, r.view, start, labelsEnd, id);
  }
  r.leave(outer);
  addSeries(batch, id, first, histograms);
}

/** Recent series of remote-write 1.0 requests, by their label bytes (per process: each gateway worker has its own). */
const seriesCache = new SeriesCache();

const LABELS_V1 = tagOf(1, LENGTH_DELIMITED);
const SAMPLES = tagOf(2, LENGTH_DELIMITED);
const EXEMPLARS_V1 = tagOf(3, LENGTH_DELIMITED);
const HISTOGRAMS_V1 = tagOf(4, LENGTH_DELIMITED);

/** prometheus.Label (name = 1, value = 2; proto3: an absent string is ''), whose tag was just read. */
function readLabel(r: WireReader, series: SeriesLabels): void {
  const outer = r.enter();
  let name = '';
  let value = '';
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === LABEL_NAME || tag === LABEL_VALUE) {
      const len = r.length();
      const s = r.string(r.pos, r.pos + len);
      r.pos += len;
      if (tag === LABEL_NAME) name = s;
      else value = s;
    } else r.skip(tag & 7);
  }
  r.leave(outer);
  series.add(name, value);
}

const LABEL_NAME = tagOf(1, LENGTH_DELIMITED);
const LABEL_VALUE = tagOf(2, LENGTH_DELIMITED);

/** A Sample (value = 1, timestamp = 2, in both versions; absent means 0), whose tag was just read, onto the batch's columns. */
function readSample(r: WireReader, batch: RemoteWriteBatch): void {
  const outer = r.enter();
  let value = 0;
  let timestamp = 0;
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === SAMPLE_VALUE) value = r.double();
    else if (tag === SAMPLE_TIMESTAMP) timestamp = r.int64();
    else r.skip(tag & 7);
  }
  r.leave(outer);
  if (isStaleMarker(value)) batch.stale.add(batch.values.length);
  batch.timestamps.push(timestamp);
  batch.values.push(value);
}

const SAMPLE_VALUE = tagOf(1, FIXED64);
const SAMPLE_TIMESTAMP = tagOf(2, VARINT);

// Native histograms are rare and intricate: protobufjs decodes them, one message at a time.
const HISTOGRAM_V1 = protoType('prometheus-remote-write-1.proto', 'prometheus.Histogram');
const HISTOGRAM_V2 = protoType('prometheus-remote-write-2.proto', 'io.prometheus.write.v2.Histogram');

/** A Histogram whose tag was just read. */
function readHistogram(r: WireReader, type: typeof HISTOGRAM_V1): HistogramMsg {
  const len = r.length();
  const h = decodeMessage<HistogramMsg>(type, r.buf.subarray(r.pos, r.pos + len));
  r.pos += len;
  return h;
}

/** io.prometheus.write.v2.Request: symbols = 4, timeseries = 5 (read once every symbol is known: they may come after). */
function fromV2(payload: Buffer): RemoteWriteBatch {
  const batch = new RemoteWriteBatch('2.0');
  const r = new WireReader(payload);
  const symbols: string[] = [];
  const timeseries: number[] = []; // where each one's tag ends
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === SYMBOLS) {
      const len = r.length();
      symbols.push(r.string(r.pos, r.pos + len));
      r.pos += len;
    } else if (tag === TIMESERIES_V2) {
      timeseries.push(r.pos);
      r.skip(LENGTH_DELIMITED);
    } else r.skip(tag & 7);
  }
  if (payload.length > 0 && symbols.length === 0 && timeseries.length === 0) {
    // What a 1.0 body looks like through the 2.0 schema: its fields (1 to 3) are reserved there.
    throw badRequest(`the body decodes to an empty ${V2_MESSAGE}: a ${V1_MESSAGE} sent with the 2.0 Content-Type?`);
  }
  const series = new SeriesLabels();
  for (let i = 0; i < timeseries.length; i++) {
    r.pos = timeseries[i]!;
    readSeriesV2(batch, r, i, symbols, series);
  }
  return batch;
}

const SYMBOLS = tagOf(4, LENGTH_DELIMITED);
const TIMESERIES_V2 = tagOf(5, LENGTH_DELIMITED);

/**
 * io.prometheus.write.v2.TimeSeries (labels_refs = 1, samples = 2,
 * histograms = 3, exemplars = 4, metadata = 5), whose tag was just read.
 * References are checked once the series is read: its labels', then its
 * exemplars', then its metadata's.
 */
function readSeriesV2(batch: RemoteWriteBatch, r: WireReader, index: number, symbols: string[], series: SeriesLabels): void {
  const outer = r.enter();
  const refs: number[] = [];
  const first = batch.timestamps.length;
  let histograms: HistogramMsg[] | undefined;
  let exemplarProblem: string | undefined;
  let exemplars = 0;
  let meta: { type: number; help: number; unit: number } | undefined;
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === SAMPLES) readSample(r, batch);
    else if (tag === LABELS_REFS_PACKED) readPacked(r, refs);
    else if (tag === LABELS_REFS) refs.push(r.uint32());
    else if (tag === HISTOGRAMS_V2) (histograms ??= []).push(readHistogram(r, HISTOGRAM_V2));
    else if (tag === EXEMPLARS_V2) {
      const where = `timeseries[${index}].exemplars[${exemplars++}].labels_refs`;
      exemplarProblem ??= refsProblem(readExemplarRefs(r), symbols.length, where);
    } else if (tag === METADATA_V2) meta = readMetadata(r);
    else r.skip(tag & 7);
  }
  r.leave(outer);

  const problem = refsProblem(refs, symbols.length, `timeseries[${index}].labels_refs`) ?? exemplarProblem;
  if (problem) throw badRequest(problem);
  batch.exemplars += exemplars;
  if (meta) {
    if (meta.help >= symbols.length || meta.unit >= symbols.length) {
      throw badRequest(`timeseries[${index}].metadata refers to a symbol past the end of the ${symbols.length} symbols`);
    }
    if (meta.type !== 0 || meta.help !== 0 || meta.unit !== 0) batch.metadata++;
  }
  for (let j = 0; j < refs.length; j += 2) series.add(symbols[refs[j]!]!, symbols[refs[j + 1]!]!);
  addSeries(batch, series.take(), first, histograms);
}

const LABELS_REFS = tagOf(1, VARINT);
const LABELS_REFS_PACKED = tagOf(1, LENGTH_DELIMITED);
const HISTOGRAMS_V2 = tagOf(3, LENGTH_DELIMITED);
const EXEMPLARS_V2 = tagOf(4, LENGTH_DELIMITED);
const METADATA_V2 = tagOf(5, LENGTH_DELIMITED);
const META_TYPE = tagOf(1, VARINT);
const META_HELP = tagOf(3, VARINT);
const META_UNIT = tagOf(4, VARINT);

/** A packed repeated uint32 field whose tag was just read, onto `into`. */
function readPacked(r: WireReader, into: number[]): void {
  const outer = r.enter();
  while (r.pos < r.end) into.push(r.uint32());
  r.leave(outer);
}

/** An io.prometheus.write.v2.Exemplar's labels_refs (= 1), whose tag was just read; its value and timestamp are not kept. */
function readExemplarRefs(r: WireReader): number[] {
  const outer = r.enter();
  const refs: number[] = [];
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === LABELS_REFS_PACKED) readPacked(r, refs);
    else if (tag === LABELS_REFS) refs.push(r.uint32());
    else r.skip(tag & 7);
  }
  r.leave(outer);
  return refs;
}

/** io.prometheus.write.v2.Metadata (type = 1, help_ref = 3, unit_ref = 4), whose tag was just read. */
function readMetadata(r: WireReader): { type: number; help: number; unit: number } {
  const outer = r.enter();
  const meta = { type: 0, help: 0, unit: 0 };
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === META_TYPE) meta.type = r.uint32();
    else if (tag === META_HELP) meta.help = r.uint32();
    else if (tag === META_UNIT) meta.unit = r.uint32();
    else r.skip(tag & 7);
  }
  r.leave(outer);
  return meta;
}

function refsProblem(refs: number[], symbols: number, where: string): string | undefined {
  if (refs.length % 2 !== 0) return `${where} has an odd length (${refs.length}): it holds name, value pairs of symbol indexes`;
  for (const ref of refs) {
    if (ref >= symbols) return `${where} refers to symbol ${ref}, past the end of the ${symbols} symbols`;
  }
  return undefined;
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

  /** The series collected since the last take, labels sorted; the next series starts empty. */
  take(): SeriesId {
    const id = { metric_name: this.name, labels: this.sorted ? this.labels : sortKeys(this.labels) };
    this.labels = {};
    this.sorted = true;
    this.last = '';
    this.name = '';
    return id;
  }
}

/** The series whose samples are the batch's from `first` on, and its histograms. */
function addSeries(batch: RemoteWriteBatch, id: SeriesId, first: number, histograms: HistogramMsg[] | undefined): void {
  const count = batch.timestamps.length - first;
  if (count > 0) {
    batch.series.push({ id, start: first, count });
    batch.sampleCount += count;
  }
  if (histograms === undefined) return;
  for (const h of histograms) {
    batch.histograms.push({
      metric_name: id.metric_name,
      labels: id.labels,
      timestamp: num(h.timestamp),
      count: histogramCount(h),
      sum: h.sum,
      stale: isStaleMarker(h.sum),
      problem: histogramProblem(h),
    });
  }
}

const bits = new DataView(new ArrayBuffer(8));
bits.setUint32(0, 0x00000002, true);
bits.setUint32(4, 0x7ff00000, true);
/** The staleness marker itself (a NaN held in a variable keeps its bits; one stored in an array of numbers may not). */
const STALE_MARKER = bits.getFloat64(0, true);

/** Prometheus's staleness marker: the NaN whose bits are exactly 0x7ff0000000000002 (other NaNs are values). */
export function isStaleMarker(value: number): boolean {
  if (!Number.isNaN(value)) return false;
  bits.setFloat64(0, value, true);
  return bits.getUint32(0, true) === 0x00000002 && bits.getUint32(4, true) === 0x7ff00000;
}

export interface MetricConversion extends Rejections {
  /** What is written: samples series by series (schemas/metric-batch.ts), a native histogram's `_count` and `_sum` as two series. */
  series: SeriesEntry[];
  /** Samples in `series`, all together. */
  accepted: number;
  /** Staleness markers, value 0: when a series stopped. Never in `series`, never a value. */
  stale: MetricPoint[];
  /** Native histograms refused by native-histogram.ts's rules. */
  inconsistent: number;
  /** Of the rejected (outOfWindow + invalid + inconsistent): how many were samples and how many histograms. */
  rejectedSamples: number;
  rejectedHistograms: number;
}

/**
 * Samples and histograms as the series the publisher writes. `labels.service`
 * is `service`, else `job`, else 'unknown' (consumers key series and rollups
 * on it). A native histogram becomes two samples, `<name>_count` and `<name>_sum`.
 * NaN and ±Inf are values like any other, kept as Prometheus keeps them (an
 * empty summary's quantiles are NaN); only the staleness marker is not a value.
 * Samples outside the retention window, of a series whose name or labels
 * break the rules of series-rules.ts, and native histograms whose counts
 * disagree (native-histogram.ts) are left out and counted: see
 * partial-write.ts for the answer the route owes the sender then.
 * Labels are checked, and the series key hashed, once per series.
 */
export function toMetricSeries(tenant: string, batch: RemoteWriteBatch, now = Date.now()): MetricConversion {
  const out: MetricConversion = {
    series: [],
    accepted: 0,
    stale: [],
    total: batch.sampleCount + batch.histograms.length,
    outOfWindow: 0,
    invalid: 0,
    inconsistent: 0,
    rejectedSamples: 0,
    rejectedHistograms: 0,
    problems: [],
  };
  const set = new SeriesSet();
  const check = new SeriesCheck();

  const reject = (
    kind: 'sample' | 'histogram',
    item: { metric_name: string; labels: Record<string, string> },
    problem: string,
    why: 'outOfWindow' | 'invalid' | 'inconsistent',
    count = 1,
  ) => {
    out[why] += count;
    if (kind === 'sample') out.rejectedSamples += count;
    else out.rejectedHistograms += count;
    // Naming the series costs a string per item: only while there is room for another example.
    if (out.problems.length < MAX_PROBLEMS) noteProblem(out, `${seriesText(item.metric_name, item.labels)}: ${problem}`);
  };

  let item = 0; // the request's samples, counted in order: the index an oversized record's error names
  const { timestamps, values, stale } = batch;
  for (const s of batch.series) {
    const { id, start } = s;
    const n = s.count;
    if (id.tenant !== tenant) settle(id, tenant);
    const labels = id.written!;
    if (typeof labels === 'string') {
      reject('sample', id, labels, 'invalid', n);
      item += n;
      continue;
    }
    const end = start + n;
    let clean = true; // every sample in the window, none a staleness marker: the common case, taken whole
    for (let i = start; i < end && clean; i++) clean = inWindow(timestamps[i]!, now) && !(Number.isNaN(values[i]) && stale.has(i));
    if (clean) {
      const entry = set.addAll(tenant, id.metric_name, labels, id.hash!, item, timestamps.slice(start, end), values.slice(start, end));
      entry.symbolIds ??= id.symbolIds;
      out.accepted += n;
      item += n;
      continue;
    }
    for (let i = start; i < end; i++, item++) {
      const timestamp = timestamps[i]!;
      const value = values[i]!;
      if (!inWindow(timestamp, now)) {
        reject('sample', id, `timestamp ${timestamp} is outside the accepted window`, 'outOfWindow');
        continue;
      }
      if (Number.isNaN(value) && stale.has(i)) {
        out.stale.push({ tenant, timestamp, metric_name: id.metric_name, value: 0, labels });
        continue;
      }
      const entry = set.add(tenant, id.metric_name, labels, id.hash!, item, timestamp, value);
      entry.symbolIds ??= id.symbolIds;
      out.accepted++;
    }
  }

  for (const h of batch.histograms) {
    const countName = `${h.metric_name}_count`;
    const sumName = `${h.metric_name}_sum`;
    const labels = check.labels(h.labels);
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
      for (const [metric_name, value] of [
        [countName, h.count],
        [sumName, h.sum],
      ] as const) {
        set.add(tenant, metric_name, l, seriesHash(tenant, metric_name, l), item, h.timestamp, value);
        out.accepted++;
      }
    }
    item++;
  }
  out.series = set.entries;
  return out;
}

/** toMetricSeries with the accepted samples also as one MetricPoint each (tests read them so). */
export function toMetricPoints(tenant: string, batch: RemoteWriteBatch, now = Date.now()): MetricConversion & { points: MetricPoint[] } {
  const out = toMetricSeries(tenant, batch, now);
  return { ...out, points: pointsOfSeries(out.series) };
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
 * What toMetricSeries makes of a series for `tenant`, kept on its SeriesId:
 * the labels to write (checked, `service` added) or what is wrong with the
 * series, and the hash of its series key. A series the cache kept is settled
 * once, not once per request.
 */
function settle(id: SeriesId, tenant: string): void {
  const labels = labelProblem(id.labels) ?? (id.labels.service ? id.labels : withService(id.labels, id.labels.job || 'unknown'));
  const written = typeof labels === 'string' || validMetricName(id.metric_name) ? labels : badName(id.metric_name);
  id.written = written;
  id.hash = typeof written === 'string' ? 0 : seriesHash(tenant, id.metric_name, written);
  id.tenant = tenant;
  if (id.symbolIds) id.symbolIds.epoch = -1; // they were the ids of the labels written before
}

/**
 * A native histogram's labels checked and given `service`, once per series: histograms of
 * one series share their labels object (and so do a series' histograms), so
 * the last answer is reused while the same object comes back.
 */
class SeriesCheck {
  private lastIn: Record<string, string> | undefined;
  private lastOut: Record<string, string> | string = '';

  /** The labels to write, or what is wrong with them. */
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
export function writtenHeaders(
  batch: Pick<RemoteWriteBatch, 'sampleCount' | 'histograms' | 'exemplars'>,
  conversion?: Pick<MetricConversion, 'rejectedSamples' | 'rejectedHistograms'>,
): Record<string, string> {
  return {
    'X-Prometheus-Remote-Write-Samples-Written': String(batch.sampleCount - (conversion?.rejectedSamples ?? 0)),
    'X-Prometheus-Remote-Write-Histograms-Written': String(batch.histograms.length - (conversion?.rejectedHistograms ?? 0)),
    'X-Prometheus-Remote-Write-Exemplars-Written': String(batch.exemplars),
  };
}
