/**
 * Batch-shape benchmark (issue 11): which Avro shape a metrics record should
 * have once it carries the samples of one request's partition instead of one
 * sample. CPU and bytes only, no services: every shape takes a request's
 * samples through the steps they will take, each step timed on its own.
 *
 *   npm run bench:batch-shapes [-- --json] [--ms 100] [--repeat 3] [--shapes A,C-columns] [--inputs rw-2000x1,json-1000of100]
 *
 * - build: the request's samples as the gateway decodes them (remote-write
 *   1.0 through gateway/protocols/remote-write.ts, JSON through JSON.parse;
 *   decoded afresh before each run, untimed) → the records to produce with
 *   their Kafka keys: today a MetricPoint and its series key per sample; for
 *   a batch, grouping by series (and interning strings).
 * - encode: records → Confluent wire format (header + Avro body) in a slab,
 *   as schemas/catalog.ts writes them.
 * - decode: wire bytes → the objects avsc hands a processor.
 * - iterate: a processor's loop over them: each series' state looked up by
 *   its key (once per series in a batch, once per record today), then every
 *   sample's timestamp and value folded into it.
 *
 * Figures are per sample: medians over runs after a warm-up, of wall time
 * (process.hrtime), of process CPU time and of bytes allocated, and of those
 * the median over --repeat rounds (each round runs every input and shape, so
 * a burst of load from elsewhere on this shared machine moves one round, not
 * the comparison). Sizes: the records' values with their 5-byte header,
 * their Kafka keys, and the values compressed as a Kafka batch would be
 * (snappy, gzip). Every shape is first checked to give back what went in
 * (each series' count, sum and last timestamp): figures from a shape that
 * loses data would mean nothing. Figures, never pass/fail.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import avro from 'avsc';
import snappy from 'snappy';
import { partitionOf, TOPICS, type MetricPoint } from '../schemas/topics.ts';
import { seededRandom } from '../test/helpers/random.ts';
import { percentile } from './load.ts';
import { exporterSeries, type Label } from './remote-write-body.ts';
import { decodeRemoteWrite } from '../gateway/protocols/remote-write.ts';
import { protoType } from '../gateway/protocols/protobuf.ts';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    ms: { type: 'string', default: '100' },
    shapes: { type: 'string' },
    repeat: { type: 'string', default: '3' },
    inputs: { type: 'string' },
  },
});
const say = (msg: string) => !args.json && process.stderr.write(`${msg}\n`);

const TENANT = 'acme-production';
/** 2026-01-31T12:00:00Z: a fixed start, so every run encodes the same bytes. */
const T0 = Date.UTC(2026, 0, 31, 12);
const SCRAPE_INTERVAL_MS = 15_000;

// ---------------------------------------------------------------------------
// Inputs: request bodies, and the samples the gateway decodes from them.

/** A MetricPoint without its tenant: what remote-write decoding and JSON validation both produce. */
type Point = Omit<MetricPoint, 'tenant'>;

interface Input {
  name: string;
  about: string;
  /**
   * The request decoded again: new objects and new strings, as each request
   * brings. Building a batch hashes label strings (grouping, interning), and
   * V8 keeps a string's hash once computed: decoding once and building from
   * the same objects every run would measure a gateway that never sees a new
   * request.
   */
  decode(): Point[];
}

const REMOTE_WRITE_1 = protoType('prometheus-remote-write-1.proto', 'prometheus.WriteRequest');

/**
 * A Prometheus remote-write 1.0 request, decoded by the gateway's own
 * decoder. Series of bench/remote-write-body.ts (node_exporter and
 * HTTP-server targets: job, instance, service, cluster, environment,
 * region, plus cpu/mode, code/method/handler, le…) with the namespace and
 * pod that Kubernetes service discovery adds. Laid out as Prometheus 2.x's
 * queue manager sends them: one TimeSeries per sample, in the order samples
 * were scraped (every series at one scrape, then the next), so a series with
 * several samples appears several times and grouping has work to do.
 * Targets are scraped at different moments within one interval. With
 * `partitions`, only the series the gateway would shard to one of that many
 * partitions: the batch one record carries once requests are sharded, where
 * a target's strings are shared by fewer series.
 */
function remoteWriteInput(seriesCount: number, samplesPerSeries: number, partitions = 1): Input {
  const random = seededRandom(seriesCount * 31 + samplesPerSeries);
  const podOf = new Map<string, string>();
  const inPartition = (labels: Label[]) => partitionOf(labels.map((l) => `${l.name}\u0000${l.value}`).join('\u0000'), partitions) === 0;
  const series = exporterSeries(seriesCount).flatMap((labels, i) => {
    const target = Math.floor(i / 20); // exporterSeries gives 20 series per target
    const all = Object.fromEntries(labels.map((l) => [l.name, l.value]));
    if (!podOf.has(all.instance!)) podOf.set(all.instance!, `${all.service}-${alphanumeric(random, 10)}-${alphanumeric(random, 5)}`);
    all.namespace = `team-${target % 7}`;
    all.pod = podOf.get(all.instance!)!;
    const sorted = Object.keys(all)
      .sort()
      .map((name) => ({ name, value: all[name]! }));
    if (!inPartition(sorted)) return [];
    const counter = /_(total|bucket|count)$/.test(all.__name__!);
    return [{ labels: sorted, counter, start: counter ? Math.floor(random() * 1e7) : 0, scrapedAt: T0 + ((target * 7919) % SCRAPE_INTERVAL_MS) }];
  });
  const timeseries = [];
  for (let j = 0; j < samplesPerSeries; j++) {
    for (const s of series) {
      const value = s.counter ? s.start + j * Math.floor(random() * 500) : Math.round(random() * 1e6) / 100;
      timeseries.push({ labels: s.labels, samples: [{ value, timestamp: s.scrapedAt + j * SCRAPE_INTERVAL_MS }] });
    }
  }
  const raw = REMOTE_WRITE_1.encode(REMOTE_WRITE_1.fromObject({ timeseries })).finish();
  const body = snappy.compressSync(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength));
  return {
    name: `rw-${seriesCount}x${samplesPerSeries}${partitions > 1 ? `-p${partitions}` : ''}`,
    about: `remote-write 1.0: ${seriesCount} series × ${samplesPerSeries} samples${partitions > 1 ? `, the series of one of ${partitions} partitions` : ''}`,
    decode: () => decodeRemoteWrite(body, { contentEncoding: 'snappy' }, { maxDecodedBytes: 64 << 20 }).samples,
  };
}

/**
 * POST /v1/metrics as bench/ingest.ts sends it: points of a few series
 * interleaved, three labels each, decoded with JSON.parse (the gateway's
 * validation then costs the same for every shape, so it is left out).
 */
function jsonInput(pointCount: number, seriesCount: number): Input {
  const random = seededRandom(pointCount);
  const points = Array.from({ length: pointCount }, (_, i): Point => {
    const s = i % seriesCount;
    return {
      metric_name: 'http_request_duration_ms',
      labels: { environment: 'prod', instance: `i-${s}`, service: `svc-${s % 50}` },
      timestamp: T0 + Math.floor(i / seriesCount),
      value: Math.round(random() * 100_000) / 100,
    };
  });
  const body = JSON.stringify(points);
  return { name: `json-${pointCount}of${seriesCount}`, about: `JSON: ${pointCount} points of ${seriesCount} series`, decode: () => JSON.parse(body) };
}

/** Like the random part of a Kubernetes pod name. */
function alphanumeric(random: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += Math.floor(random() * 36).toString(36);
  return s;
}

// ---------------------------------------------------------------------------
// What every shape shares: the series key, grouping, a processor's state.

/** A series' identity within one tenant: schemas/topics.ts's key without the tenant (labels arrive sorted). */
function seriesKey(metricName: string, labels: Record<string, string>): string {
  let key = metricName;
  for (const name in labels) key += `\u0000${name}\u0000${labels[name]}`;
  return key;
}

/** One series of a request and its samples in arrival order, columns side by side. */
interface Group {
  metric_name: string;
  labels: Record<string, string>;
  timestamps: number[];
  values: number[];
}

/** The request's samples grouped by series, series in order of first appearance: the first step of every batch shape. */
function groupBySeries(points: Point[]): Group[] {
  const groups = new Map<string, Group>();
  for (const p of points) {
    const key = seriesKey(p.metric_name, p.labels);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { metric_name: p.metric_name, labels: p.labels, timestamps: [], values: [] }));
    g.timestamps.push(p.timestamp);
    g.values.push(p.value);
  }
  return [...groups.values()];
}

/** What a processor keeps per series (a rollup's running window, a detector's baseline), found by the series key. */
interface SeriesState {
  metric_name: string;
  labels: Record<string, string>;
  count: number;
  sum: number;
  last: number;
}

class Consumer {
  readonly states = new Map<string, SeriesState>();
  samples = 0;

  series(key: string, metricName: string, labels: Record<string, string>): SeriesState {
    let s = this.states.get(key);
    if (s === undefined) this.states.set(key, (s = { metric_name: metricName, labels, count: 0, sum: 0, last: 0 }));
    return s;
  }

  sample(s: SeriesState, timestamp: number, value: number): void {
    s.count++;
    s.sum += value;
    s.last = timestamp;
    this.samples++;
  }
}

/** Strings once, integer references after: the symbol table of remote-write 2.0. */
class SymbolTable {
  readonly symbols: string[] = [];
  private readonly refs = new Map<string, number>();

  ref(s: string): number {
    let r = this.refs.get(s);
    if (r === undefined) {
      r = this.symbols.length;
      this.symbols.push(s);
      this.refs.set(s, r);
    }
    return r;
  }

  /** `__name__` and the metric name first, then the labels in their (sorted) order, as name/value pairs. */
  labelRefs(g: Group): number[] {
    const refs = [this.ref('__name__'), this.ref(g.metric_name)];
    for (const name in g.labels) refs.push(this.ref(name), this.ref(g.labels[name]!));
    return refs;
  }
}

/**
 * A series back from its references. Plain assignment is what avsc's own map
 * decoding does; production code would guard a label named __proto__
 * (lib/labels.ts), at the same cost for every shape.
 */
function resolveSeries(symbols: string[], refs: number[]): { metric_name: string; labels: Record<string, string> } {
  const labels: Record<string, string> = {};
  for (let i = 2; i < refs.length; i += 2) labels[symbols[refs[i]!]!] = symbols[refs[i + 1]!]!;
  return { metric_name: symbols[refs[1]!]!, labels };
}

/** Values packed as little-endian float64s, for the shapes that carry them as Avro `bytes`. */
function packDoubles(values: number[]): Buffer {
  const buf = Buffer.allocUnsafe(values.length * 8);
  for (let i = 0; i < values.length; i++) buf.writeDoubleLE(values[i]!, i * 8);
  return buf;
}

// ---------------------------------------------------------------------------
// The shapes: a schema, how a gateway builds its records, how a processor walks them.

interface Keyed<R> {
  key: string;
  record: R;
}

interface Shape<R> {
  name: string;
  about: string;
  schema: avro.Schema;
  /** The records of one partition of one request, with their Kafka keys. */
  build(tenant: string, points: Point[]): Keyed<R>[];
  /** Every sample of the decoded records into the consumer, series state looked up by key. */
  iterate(records: R[], consumer: Consumer): void;
}

/** Shapes differ in their record type; the runner only passes records from one step to the next. */
const shape = <R>(s: Shape<R>) => s as unknown as Shape<unknown>;

const record = (name: string, fields: { name: string; type: unknown }[]) => ({ type: 'record', name, fields }) as avro.Schema;
const arrayOf = (items: unknown) => ({ type: 'array', items });
const STRING_MAP = { type: 'map', values: 'string' };

interface NestedSeries {
  metric_name: string;
  labels: Record<string, string>;
  samples: { timestamp: number; value: number }[];
}
interface ColumnSeries {
  metric_name: string;
  labels: Record<string, string>;
  timestamps: number[];
  values: number[];
}
interface RefSeries<V> {
  labels_refs: number[];
  timestamps: number[];
  values: V;
}

/** A: today's contract, one record per sample (schemas/metric_point.avsc), keyed by series. */
const perSample = shape<MetricPoint>({
  name: 'A per-sample',
  about: 'today: one MetricPoint record per sample',
  schema: JSON.parse(TOPICS.metrics.schema),
  build: (tenant, points) =>
    points.map((p) => {
      const r: MetricPoint = { tenant, ...p };
      return { key: TOPICS.metrics.key(r), record: r };
    }),
  iterate(records, consumer) {
    for (const r of records) consumer.sample(consumer.series(seriesKey(r.metric_name, r.labels), r.metric_name, r.labels), r.timestamp, r.value);
  },
});

/** B: each series once with its label map, then its samples as records. */
const nested = shape<{ tenant: string; series: NestedSeries[] }>({
  name: 'B nested',
  about: 'series: [{metric_name, labels map, samples: [{timestamp, value}]}]',
  schema: record('MetricBatchNested', [
    { name: 'tenant', type: 'string' },
    {
      name: 'series',
      type: arrayOf(
        record('NestedSeries', [
          { name: 'metric_name', type: 'string' },
          { name: 'labels', type: STRING_MAP },
          {
            name: 'samples',
            type: arrayOf(
              record('Sample', [
                { name: 'timestamp', type: 'long' },
                { name: 'value', type: 'double' },
              ]),
            ),
          },
        ]),
      ),
    },
  ]),
  build: (tenant, points) => [
    {
      key: tenant,
      record: {
        tenant,
        series: groupBySeries(points).map((g) => ({
          metric_name: g.metric_name,
          labels: g.labels,
          samples: g.timestamps.map((timestamp, i) => ({ timestamp, value: g.values[i]! })),
        })),
      },
    },
  ],
  iterate(records, consumer) {
    for (const batch of records) {
      for (const s of batch.series) {
        const state = consumer.series(seriesKey(s.metric_name, s.labels), s.metric_name, s.labels);
        for (const x of s.samples) consumer.sample(state, x.timestamp, x.value);
      }
    }
  },
});

const columnSeriesSchema = record('ColumnSeries', [
  { name: 'metric_name', type: 'string' },
  { name: 'labels', type: STRING_MAP },
  { name: 'timestamps', type: arrayOf('long') },
  { name: 'values', type: arrayOf('double') },
]);

/** B-col: B with parallel timestamp and value arrays: no record per sample on either side. */
const columns = shape<{ tenant: string; series: ColumnSeries[] }>({
  name: 'B-col',
  about: 'B with timestamps: [long], values: [double] per series',
  schema: record('MetricBatchColumns', [
    { name: 'tenant', type: 'string' },
    { name: 'series', type: arrayOf(columnSeriesSchema) },
  ]),
  build: (tenant, points) => [{ key: tenant, record: { tenant, series: groupBySeries(points) } }],
  iterate(records, consumer) {
    for (const batch of records) {
      for (const s of batch.series) {
        const state = consumer.series(seriesKey(s.metric_name, s.labels), s.metric_name, s.labels);
        for (let i = 0; i < s.timestamps.length; i++) consumer.sample(state, s.timestamps[i]!, s.values[i]!);
      }
    }
  },
});

/**
 * Timestamps as differences from the batch's first sample: an epoch-ms
 * varint takes 6 bytes, a difference within a scrape interval 1 to 3.
 */
const base = (points: Point[]) => points[0]?.timestamp ?? 0;
const minus = (timestamps: number[], t0: number) => timestamps.map((t) => t - t0);

/** B-col-delta: B-col with timestamps relative to base_timestamp. */
const columnsDelta = shape<{ tenant: string; base_timestamp: number; series: ColumnSeries[] }>({
  name: 'B-col-delta',
  about: 'B-col, timestamps relative to the batch base',
  schema: record('MetricBatchColumnsDelta', [
    { name: 'tenant', type: 'string' },
    { name: 'base_timestamp', type: 'long' },
    { name: 'series', type: arrayOf(columnSeriesSchema) },
  ]),
  build(tenant, points) {
    const t0 = base(points);
    const series = groupBySeries(points).map((g) => ({ ...g, timestamps: minus(g.timestamps, t0) }));
    return [{ key: tenant, record: { tenant, base_timestamp: t0, series } }];
  },
  iterate(records, consumer) {
    for (const batch of records) {
      const t0 = batch.base_timestamp;
      for (const s of batch.series) {
        const state = consumer.series(seriesKey(s.metric_name, s.labels), s.metric_name, s.labels);
        for (let i = 0; i < s.timestamps.length; i++) consumer.sample(state, t0 + s.timestamps[i]!, s.values[i]!);
      }
    }
  },
});

const refSeries = (valuesType: unknown) =>
  record('RefSeries', [
    { name: 'labels_refs', type: arrayOf('int') },
    { name: 'timestamps', type: arrayOf('long') },
    { name: 'values', type: valuesType },
  ]);

/** The series' state, its labels resolved from the symbol table once per series per record. */
function refState(consumer: Consumer, symbols: string[], refs: number[]): SeriesState {
  const { metric_name, labels } = resolveSeries(symbols, refs);
  return consumer.series(seriesKey(metric_name, labels), metric_name, labels);
}

type SymbolBatch<V> = { tenant: string; base_timestamp: number; symbols: string[]; series: RefSeries<V>[] };

/** C: remote-write 2.0's shape: every string once in `symbols`, series as references. */
const symbolTable = shape<Omit<SymbolBatch<number[]>, 'base_timestamp'>>({
  name: 'C symbols',
  about: 'symbols: [string], series: [{labels_refs, timestamps, values}]',
  schema: record('MetricBatchSymbols', [
    { name: 'tenant', type: 'string' },
    { name: 'symbols', type: arrayOf('string') },
    { name: 'series', type: arrayOf(refSeries(arrayOf('double'))) },
  ]),
  build(tenant, points) {
    const table = new SymbolTable();
    const series = groupBySeries(points).map((g) => ({ labels_refs: table.labelRefs(g), timestamps: g.timestamps, values: g.values }));
    return [{ key: tenant, record: { tenant, symbols: table.symbols, series } }];
  },
  iterate(records, consumer) {
    for (const batch of records) {
      for (const s of batch.series) {
        const state = refState(consumer, batch.symbols, s.labels_refs);
        for (let i = 0; i < s.timestamps.length; i++) consumer.sample(state, s.timestamps[i]!, s.values[i]!);
      }
    }
  },
});

/** C with timestamps relative to the batch base, built one way for the two value encodings below. */
function buildSymbolBatch<V>(tenant: string, points: Point[], packValues: (values: number[]) => V): Keyed<SymbolBatch<V>>[] {
  const table = new SymbolTable();
  const t0 = base(points);
  const series = groupBySeries(points).map((g) => ({ labels_refs: table.labelRefs(g), timestamps: minus(g.timestamps, t0), values: packValues(g.values) }));
  return [{ key: tenant, record: { tenant, base_timestamp: t0, symbols: table.symbols, series } }];
}

const symbolBatchSchema = (name: string, valuesType: unknown) =>
  record(name, [
    { name: 'tenant', type: 'string' },
    { name: 'base_timestamp', type: 'long' },
    { name: 'symbols', type: arrayOf('string') },
    { name: 'series', type: arrayOf(refSeries(valuesType)) },
  ]);

/** C-delta: C with timestamps relative to base_timestamp. */
const symbolTableDelta = shape<SymbolBatch<number[]>>({
  name: 'C-delta',
  about: 'C, timestamps relative to the batch base',
  schema: symbolBatchSchema('MetricBatchSymbolsDelta', arrayOf('double')),
  build: (tenant, points) => buildSymbolBatch(tenant, points, (values) => values),
  iterate(records, consumer) {
    for (const batch of records) {
      const t0 = batch.base_timestamp;
      for (const s of batch.series) {
        const state = refState(consumer, batch.symbols, s.labels_refs);
        for (let i = 0; i < s.timestamps.length; i++) consumer.sample(state, t0 + s.timestamps[i]!, s.values[i]!);
      }
    }
  },
});

/** C-packed: C-delta with each series' values as `bytes` (float64 LE): one length instead of a count and a terminator. */
const symbolTablePacked = shape<SymbolBatch<Buffer>>({
  name: 'C-packed',
  about: 'C-delta, values: bytes (float64 LE) per series',
  schema: symbolBatchSchema('MetricBatchSymbolsPacked', 'bytes'),
  build: (tenant, points) => buildSymbolBatch(tenant, points, packDoubles),
  iterate(records, consumer) {
    for (const batch of records) {
      const t0 = batch.base_timestamp;
      for (const s of batch.series) {
        const state = refState(consumer, batch.symbols, s.labels_refs);
        // avsc copies `bytes` into its own pool, at any offset: a Float64Array view would need 8-byte alignment.
        for (let i = 0; i < s.timestamps.length; i++) consumer.sample(state, t0 + s.timestamps[i]!, s.values.readDoubleLE(i * 8));
      }
    }
  },
});

interface CountedSeries {
  labels_refs: number[];
  sample_count: number;
}

type ColumnBatch<V> = { tenant: string; base_timestamp: number; symbols: string[]; series: CountedSeries[]; timestamps: number[]; values: V };

const symbolColumnsSchema = (name: string, valuesType: unknown) =>
  record(name, [
    { name: 'tenant', type: 'string' },
    { name: 'base_timestamp', type: 'long' },
    { name: 'symbols', type: arrayOf('string') },
    {
      name: 'series',
      type: arrayOf(
        record('CountedSeries', [
          { name: 'labels_refs', type: arrayOf('int') },
          { name: 'sample_count', type: 'int' },
        ]),
      ),
    },
    { name: 'timestamps', type: arrayOf('long') },
    { name: 'values', type: valuesType },
  ]);

/**
 * Series as references and a count, samples in two batch-wide columns
 * (series after series): two arrays per record instead of two per series,
 * which is most of a batch when series carry one sample each.
 */
function buildSymbolColumns<V>(tenant: string, points: Point[], packValues: (values: number[]) => V): Keyed<ColumnBatch<V>>[] {
  const table = new SymbolTable();
  const t0 = base(points);
  const series: CountedSeries[] = [];
  const timestamps: number[] = [];
  const values: number[] = [];
  for (const g of groupBySeries(points)) {
    series.push({ labels_refs: table.labelRefs(g), sample_count: g.timestamps.length });
    for (let i = 0; i < g.timestamps.length; i++) {
      timestamps.push(g.timestamps[i]! - t0);
      values.push(g.values[i]!);
    }
  }
  return [{ key: tenant, record: { tenant, base_timestamp: t0, symbols: table.symbols, series, timestamps, values: packValues(values) } }];
}

/**
 * C-columns: batch-wide columns, values: [double]. Its schema is the draft
 * of the contract (schemas/metric_batch.avsc, with its doc strings),
 * so the draft is the one measured and checked here.
 */
const symbolColumns = shape<ColumnBatch<number[]>>({
  name: 'C-columns',
  about: 'C, per series {labels_refs, sample_count}; batch-wide timestamps (delta) and values: [double]',
  schema: JSON.parse(readFileSync(new URL('../schemas/metric_batch.avsc', import.meta.url), 'utf8')),
  build: (tenant, points) => buildSymbolColumns(tenant, points, (values) => values),
  iterate(records, consumer) {
    for (const batch of records) {
      const t0 = batch.base_timestamp;
      let at = 0;
      for (const s of batch.series) {
        const state = refState(consumer, batch.symbols, s.labels_refs);
        for (const end = at + s.sample_count; at < end; at++) consumer.sample(state, t0 + batch.timestamps[at]!, batch.values[at]!);
      }
    }
  },
});

/** C-columns-packed: C-columns with the value column as `bytes` (float64 LE). */
const symbolColumnsPacked = shape<ColumnBatch<Buffer>>({
  name: 'C-columns-packed',
  about: 'C-columns, values: bytes (float64 LE)',
  schema: symbolColumnsSchema('MetricBatchSymbolColumnsPacked', 'bytes'),
  build: (tenant, points) => buildSymbolColumns(tenant, points, packDoubles),
  iterate(records, consumer) {
    for (const batch of records) {
      const t0 = batch.base_timestamp;
      let at = 0;
      for (const s of batch.series) {
        const state = refState(consumer, batch.symbols, s.labels_refs);
        for (const end = at + s.sample_count; at < end; at++) consumer.sample(state, t0 + batch.timestamps[at]!, batch.values.readDoubleLE(at * 8));
      }
    }
  },
});

const SHAPES = [perSample, nested, columns, columnsDelta, symbolTable, symbolTableDelta, symbolTablePacked, symbolColumns, symbolColumnsPacked];

// ---------------------------------------------------------------------------
// Encoding as schemas/catalog.ts does it: header + body written into a shared slab.

/**
 * catalog.ts's slab (256 KiB) is sized for one-sample records; a batch record
 * can be most of it, and avsc only says a record did not fit after a whole
 * encoding pass. So the slab is 1 MiB here, and a fresh one is taken before
 * writing when what is left is smaller than the largest record so far: the
 * wasted pass then happens once, not every few batches.
 */
const SLAB_BYTES = 1024 * 1024;

class WireWriter {
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  private used = 0;
  private largest = 0;
  private readonly header = Buffer.from([0, 0, 0, 0, 1]);

  constructor(private readonly type: avro.Type) {}

  write(record: unknown): Buffer {
    if (this.slab.length - this.used < this.largest + 5) this.fresh(0);
    let end: number;
    while ((end = this.writeAt(record)) < 0) this.fresh(-end);
    const view = this.slab.subarray(this.used, end);
    this.used = end;
    this.largest = Math.max(this.largest, view.length);
    return view;
  }

  private fresh(missing: number): void {
    this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, this.slab.length - this.used + missing));
    this.used = 0;
  }

  private writeAt(record: unknown): number {
    if (this.slab.length - this.used < 5) return -5;
    this.header.copy(this.slab, this.used);
    return this.type.encode(record, this.slab, this.used + 5);
  }
}

// ---------------------------------------------------------------------------
// Timing.

/** Keeps each step's result reachable, so the compiler cannot drop the work. */
let sink: unknown;

/**
 * V8's gc(), without a flag on the command line: a minor collection before
 * each run empties the young generation, so a run's figures are its own work
 * (not a collection of what the previous run or the untimed preparation left)
 * and the heap's growth over the run is what the step allocated.
 */
v8.setFlagsFromString('--expose-gc');
const collectYoung = vm.runInNewContext('gc') as (options: { type: 'minor' }) => void;

interface Timing {
  /** Wall time per run (process.hrtime), the median. */
  wall: number;
  /**
   * Process CPU time per run, the median: the same figure, but unmoved when
   * other processes take the core (this machine is shared). The two agree on
   * a quiet machine.
   */
  cpu: number;
  /** Bytes allocated per run, the median: what later collections will have to deal with. */
  allocated: number;
}

const noPreparation = () => undefined;

/**
 * Per sample, `step` given what `prepare` makes before each run (not timed).
 * A warm-up of a quarter of the budget, then runs until their own time
 * reaches the budget (at least 15 runs).
 */
function timePerSample<T>(samples: number, budgetMs: number, step: (input: T) => unknown, prepare: () => T): Timing {
  const budgetNs = budgetMs * 1e6;
  const runs = { wall: [] as number[], cpu: [] as number[], allocated: [] as number[] };
  let spent = 0;
  for (let warm = true; ; ) {
    const input = prepare();
    collectYoung({ type: 'minor' });
    const heap = process.memoryUsage().heapUsed;
    const cpu = process.cpuUsage();
    const t = process.hrtime.bigint();
    sink = step(input);
    const ns = Number(process.hrtime.bigint() - t);
    const used = process.cpuUsage(cpu);
    const allocated = process.memoryUsage().heapUsed - heap;
    spent += ns;
    if (warm) {
      if (spent >= budgetNs / 4) [warm, spent] = [false, 0];
      continue;
    }
    runs.wall.push(ns);
    runs.cpu.push((used.user + used.system) * 1000);
    runs.allocated.push(allocated);
    if (spent >= budgetNs && runs.wall.length >= 15) break;
  }
  const median = (xs: number[]) =>
    percentile(
      xs.sort((a, b) => a - b),
      0.5,
    ) / samples;
  return { wall: median(runs.wall), cpu: median(runs.cpu), allocated: median(runs.allocated) };
}

/** Throws unless the consumer saw every series with its samples, sum and last timestamp: a shape that loses data is no candidate. */
function check(shapeName: string, input: Input, points: Point[], consumer: Consumer): void {
  const want = new Consumer();
  for (const p of points) want.sample(want.series(seriesKey(p.metric_name, p.labels), p.metric_name, p.labels), p.timestamp, p.value);
  const differs = (key: string, w: SeriesState) => {
    const g = consumer.states.get(key);
    return !g || g.count !== w.count || g.last !== w.last || Math.abs(g.sum - w.sum) > 1e-9 * Math.abs(w.sum);
  };
  const wrong = [...want.states].find(([key, w]) => differs(key, w));
  if (wrong || consumer.states.size !== want.states.size || consumer.samples !== want.samples) {
    throw new Error(
      `${shapeName} on ${input.name}: ${consumer.samples} samples of ${consumer.states.size} series back, series ${JSON.stringify(wrong?.[0])} differs`,
    );
  }
}

const PHASES = ['build', 'encode', 'decode', 'iterate'] as const;
type Phase = (typeof PHASES)[number];

interface Row {
  input: string;
  shape: string;
  records: number;
  /** Per sample (see Timing). */
  phases: Record<Phase, Timing>;
  /** Values with their 5-byte header, their Kafka keys, and the values compressed as one Kafka batch. */
  bytes: { value: number; key: number; snappy: number; gzip: number };
  /** Compressing the values with snappy, ns per sample. */
  snappy_ns: number;
}

function measure(s: Shape<unknown>, input: Input, budgetMs: number): Row {
  const type = avro.Type.forSchema(s.schema);
  const writer = new WireWriter(type);
  const points = input.decode();
  const n = points.length;
  const encodeAll = (keyed: Keyed<unknown>[]) => keyed.map((k) => writer.write(k.record));
  const decodeAll = (wire: Buffer[]) => wire.map((b) => type.fromBuffer(b.subarray(5)));

  // Once through and checked; these are then each step's input. Slab views are copied: later writes reuse the slab.
  const keyed = s.build(TENANT, points);
  const wire = encodeAll(keyed).map((b) => Buffer.from(b));
  const decoded = decodeAll(wire);
  const fresh = new Consumer();
  s.iterate(decoded, fresh);
  check(s.name, input, points, fresh);

  const consumer = new Consumer();
  const values = Buffer.concat(wire);
  return {
    input: input.name,
    shape: s.name,
    records: wire.length,
    phases: {
      build: timePerSample(n, budgetMs, (request: Point[]) => s.build(TENANT, request), input.decode),
      encode: timePerSample(n, budgetMs, () => encodeAll(keyed), noPreparation),
      decode: timePerSample(n, budgetMs, () => decodeAll(wire), noPreparation),
      iterate: timePerSample(n, budgetMs, () => s.iterate(decoded, consumer), noPreparation),
    },
    bytes: {
      value: values.length / n,
      key: keyed.reduce((sum, k) => sum + Buffer.byteLength(k.key), 0) / n,
      snappy: snappy.compressSync(values).length / n,
      gzip: gzipSync(values).length / n,
    },
    snappy_ns: timePerSample(n, budgetMs / 2, () => snappy.compressSync(values), noPreparation).wall,
  };
}

// ---------------------------------------------------------------------------
// Run and print.

/** A row whose timings are each the median over the rounds (sizes are the same in every round). */
function medianRow(rounds: Row[]): Row {
  const mid = (figure: (r: Row) => number) =>
    percentile(
      rounds.map(figure).sort((a, b) => a - b),
      0.5,
    );
  const phase = (p: Phase): Timing => ({ wall: mid((r) => r.phases[p].wall), cpu: mid((r) => r.phases[p].cpu), allocated: mid((r) => r.phases[p].allocated) });
  return {
    ...rounds[0]!,
    phases: { build: phase('build'), encode: phase('encode'), decode: phase('decode'), iterate: phase('iterate') },
    snappy_ns: mid((r) => r.snappy_ns),
  };
}

function describeInput(input: Input) {
  const points = input.decode();
  const groups = groupBySeries(points);
  const labels = groups.reduce((sum, g) => sum + Object.keys(g.labels).length + 1, 0) / groups.length;
  const labelBytes = groups.reduce((sum, g) => sum + Buffer.byteLength(seriesKey(g.metric_name, g.labels)), 0) / groups.length;
  return {
    name: input.name,
    about: input.about,
    samples: points.length,
    series: groups.length,
    labels_per_series: Number(labels.toFixed(1)),
    label_bytes_per_series: Math.round(labelBytes),
  };
}

function printTable(inputs: ReturnType<typeof describeInput>[], shapes: Shape<unknown>[], rows: Row[]): void {
  const ns = (x: number) => x.toFixed(0);
  const bytes = (x: number) => x.toFixed(1);
  const sum = (r: Row, a: Phase, b: Phase, figure: keyof Timing) => r.phases[a][figure] + r.phases[b][figure];
  const cols: [string, (r: Row) => string][] = [
    ['shape', (r) => r.shape],
    ['records', (r) => String(r.records)],
    ...PHASES.map((p): [string, (r: Row) => string] => [p, (r) => ns(r.phases[p].wall)]),
    ['gw cpu', (r) => ns(sum(r, 'build', 'encode', 'cpu'))],
    ['proc cpu', (r) => ns(sum(r, 'decode', 'iterate', 'cpu'))],
    ['gw alloc', (r) => ns(sum(r, 'build', 'encode', 'allocated'))],
    ['proc alloc', (r) => ns(sum(r, 'decode', 'iterate', 'allocated'))],
    ['B/sample', (r) => bytes(r.bytes.value)],
    ['key B', (r) => bytes(r.bytes.key)],
    ['snappy B', (r) => bytes(r.bytes.snappy)],
    ['gzip B', (r) => bytes(r.bytes.gzip)],
    ['snappy ns', (r) => ns(r.snappy_ns)],
  ];
  console.log(
    [
      'Per sample. build, encode, decode, iterate: wall-time ns, medians. gw cpu (build + encode), proc cpu (decode + iterate): process CPU ns,',
      'medians (unmoved by other processes on the machine). gw/proc alloc: bytes allocated. B/sample: record values with their 5-byte header;',
      'key B: Kafka keys; snappy B, gzip B: the values compressed as one batch.',
      '',
      ...shapes.map((s) => `${s.name.padEnd(16)}  ${s.about}`),
    ].join('\n'),
  );
  for (const input of inputs) {
    console.log(
      `\n${input.about}: ${input.samples} samples, ${input.series} series, ${input.labels_per_series} labels and ${input.label_bytes_per_series} bytes of labels per series`,
    );
    const own = rows.filter((r) => r.input === input.name);
    const cells = [cols.map(([h]) => h), ...own.map((r) => cols.map(([, f]) => f(r)))];
    const widths = cols.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
    for (const c of cells) console.log(c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  '));
  }
}

const pick = <T extends { name: string }>(all: T[], list: string | undefined) =>
  list ? all.filter((x) => list.split(',').includes(x.name.split(' ')[0]!)) : all;

const inputs = pick([remoteWriteInput(2000, 1), remoteWriteInput(2000, 1, 8), remoteWriteInput(500, 10), jsonInput(1000, 100)], args.inputs);
const shapes = pick(SHAPES, args.shapes);
const budgetMs = Number(args.ms);
const repeat = Number(args.repeat);
// Rounds over every input and shape, each figure the median of its rounds: a burst of load from
// another process on this shared machine then moves one round of a figure, not the comparison.
const rounds: Row[][] = [];
for (let round = 1; round <= repeat; round++) {
  for (const [i, input] of inputs.entries()) {
    for (const [j, s] of shapes.entries()) {
      say(`bench: round ${round}/${repeat}: ${input.name} × ${s.name}…`);
      (rounds[i * shapes.length + j] ??= []).push(measure(s, input, budgetMs));
    }
  }
}
const rows = rounds.map(medianRow);
void sink;
const described = inputs.map(describeInput);
const oneDecimal = (_: string, v: unknown) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v);
if (args.json)
  console.log(
    JSON.stringify(
      {
        bench: 'batch-shapes',
        node: process.version,
        budget_ms: budgetMs,
        repeat,
        inputs: described,
        shapes: shapes.map(({ name, about }) => ({ name, about })),
        results: rows,
      },
      oneDecimal,
    ),
  );
else printTable(described, shapes, rows);
