/**
 * Remote-write 1.0 request bodies for the benchmark: a fixed set of series
 * whose every request carries the next samples in time, as a Prometheus
 * sender's shard sends them. Encoded once with protobufjs and compressed with
 * snappy; each request then only has its timestamps and values written in
 * place (see snappy-literals.ts), so the load generator spends next to no
 * CPU on bodies however long the run, and every series' timestamps keep
 * increasing (Prometheus's TSDB refuses a sample older than its series' last).
 */
import protobuf from 'protobufjs';
import snappy from 'snappy';
import { protoType } from '../gateway/protocols/protobuf.ts';
import { patchableBlock } from './snappy-literals.ts';

export interface Label {
  name: string;
  value: string;
}

const WRITE_REQUEST = protoType('prometheus-remote-write-1.proto', 'prometheus.WriteRequest');

/** What one scraped target exposes: node_exporter-like and HTTP-server-like series, 20 in all. */
const TARGET_SERIES: { job: string; name: string; extra: Record<string, string> }[] = [
  ...['0', '1'].flatMap((cpu) => ['idle', 'user', 'system', 'iowait'].map((mode) => ({ job: 'node', name: 'node_cpu_seconds_total', extra: { cpu, mode } }))),
  { job: 'node', name: 'node_memory_MemAvailable_bytes', extra: {} },
  { job: 'node', name: 'node_load1', extra: {} },
  { job: 'node', name: 'node_network_receive_bytes_total', extra: { device: 'eth0' } },
  { job: 'node', name: 'node_filesystem_avail_bytes', extra: { device: '/dev/vda1', fstype: 'ext4', mountpoint: '/' } },
  ...[
    ['GET', '200'],
    ['GET', '404'],
    ['POST', '201'],
    ['GET', '500'],
  ].map(([method, code]) => ({
    job: 'api',
    name: 'http_requests_total',
    extra: { code: code!, handler: '/api/v1/orders', method: method! },
  })),
  ...['0.1', '0.5', '+Inf'].map((le) => ({ job: 'api', name: 'http_request_duration_seconds_bucket', extra: { handler: '/api/v1/orders', le } })),
  { job: 'api', name: 'process_resident_memory_bytes', extra: {} },
];

/**
 * `count` distinct series as exporters expose them: 20 per target, with
 * __name__, job, instance, service, environment, region and cluster, plus
 * the metric's own labels; sorted by name, as remote-write requires.
 */
export function exporterSeries(count: number): Label[][] {
  return Array.from({ length: count }, (_, i) => {
    const target = Math.floor(i / TARGET_SERIES.length);
    const s = TARGET_SERIES[i % TARGET_SERIES.length]!;
    const labels: Record<string, string> = {
      __name__: s.name,
      cluster: `prod-${target % 3}`,
      environment: 'production',
      instance: `10.${(target >> 16) & 255}.${(target >> 8) & 255}.${target & 255}:${s.job === 'node' ? 9100 : 8080}`,
      job: s.job,
      region: target % 2 ? 'eu-west-1' : 'us-east-1',
      service: `svc-${target % 100}`,
      ...s.extra,
    };
    return Object.keys(labels)
      .sort()
      .map((name) => ({ name, value: labels[name]! }));
  });
}

export interface StampOptions {
  /** Samples of each series in one request, consecutive in time. */
  samplesPerSeries: number;
  /** The first sample's timestamp, epoch ms. */
  startMs: number;
  /** Time between a series' consecutive samples, ms. */
  stepMs: number;
  /** Seeds the series' values, so that two sets built alike send the same bytes. */
  seed?: number;
}

/** A timestamp is written as a 6-byte varint in place: it must stay within [2^35, 2^42) ms (years 1971 to 2109). */
const MIN_TS = 2 ** 35;
const MAX_TS = 2 ** 42;

/**
 * Request `k` of one sender shard: every series in `series`, each with
 * `samplesPerSeries` samples at startMs + (k * samplesPerSeries + j) * stepMs,
 * values of counters that grow by a per-series rate.
 */
export class StampedBodies {
  readonly samplesPerRequest: number;
  /** Bytes on the wire per request (snappy-compressed). */
  readonly byteLength: number;
  private readonly buffers: [Buffer, Buffer];
  private readonly valueAt: Int32Array;
  private readonly timestampAt: Int32Array;
  private readonly base: Float64Array;
  private readonly rate: Float64Array;
  private readonly views: [DataView, DataView];

  constructor(
    readonly series: Label[][],
    readonly opts: StampOptions,
  ) {
    if (opts.startMs < MIN_TS) throw new Error(`startMs ${opts.startMs} is before 2^35 ms (1971): timestamps must be 6-byte varints`);
    const n = opts.samplesPerSeries;
    this.samplesPerRequest = series.length * n;
    const random = mulberry32(opts.seed ?? 1);
    this.base = Float64Array.from(series, () => Math.round(random() * 1e8) / 100);
    this.rate = Float64Array.from(series, () => 0.5 + random() * 50);

    const message = WRITE_REQUEST.fromObject({
      timeseries: series.map((labels, s) => ({
        labels,
        samples: Array.from({ length: n }, (_, j) => ({ value: this.sampleValue(s, j), timestamp: this.sampleTime(j) })),
      })),
    });
    const raw = WRITE_REQUEST.encode(message).finish();
    const { values, timestamps } = sampleFields(raw, this.samplesPerRequest);
    const changeable = new Uint8Array(raw.length);
    for (const at of values) changeable.fill(1, at, at + 8);
    for (const at of timestamps) changeable.fill(1, at, at + 6);
    const block = patchableBlock(snappy.compressSync(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)), raw, changeable);
    this.valueAt = values.map((at) => block.offsetOf[at]!);
    this.timestampAt = timestamps.map((at) => block.offsetOf[at]!);
    this.buffers = [block.bytes, Buffer.from(block.bytes)];
    this.views = [dataView(this.buffers[0]), dataView(this.buffers[1])];
    this.byteLength = block.bytes.length;
  }

  /** Sample `j` of series `s` in request 0 has index j; in request k, k * samplesPerSeries + j. */
  sampleValue(s: number, index: number): number {
    return this.base[s]! + index * this.rate[s]!;
  }

  sampleTime(index: number): number {
    return this.opts.startMs + index * this.opts.stepMs;
  }

  /**
   * Request `k`'s body. Written in place into one of two buffers (k's parity):
   * the body handed out for k stays intact while k + 1 is written.
   */
  body(k: number): Buffer {
    const buf = this.buffers[k & 1]!;
    const view = this.views[k & 1]!;
    const { valueAt, timestampAt, base, rate } = this;
    const n = this.opts.samplesPerSeries;
    for (let j = 0; j < n; j++) {
      const index = k * n + j;
      let t = this.sampleTime(index);
      if (t >= MAX_TS) throw new Error(`timestamp ${t} is past 2^42 ms: it no longer fits a 6-byte varint`);
      const b0 = (t % 128) | 0x80;
      const b1 = (Math.floor((t /= 128)) % 128) | 0x80;
      const b2 = (Math.floor((t /= 128)) % 128) | 0x80;
      const b3 = (Math.floor((t /= 128)) % 128) | 0x80;
      const b4 = (Math.floor((t /= 128)) % 128) | 0x80;
      const b5 = Math.floor(t / 128);
      for (let s = 0, at = j; s < base.length; s++, at += n) {
        view.setFloat64(valueAt[at]!, base[s]! + index * rate[s]!, true);
        const o = timestampAt[at]!;
        buf[o] = b0;
        buf[o + 1] = b1;
        buf[o + 2] = b2;
        buf[o + 3] = b3;
        buf[o + 4] = b4;
        buf[o + 5] = b5;
      }
    }
    return buf;
  }
}

const dataView = (buf: Buffer) => new DataView(buf.buffer, buf.byteOffset, buf.byteLength);

/**
 * Where each sample's value (8 bytes) and timestamp (a 6-byte varint) sit in
 * an encoded WriteRequest, series by series, samples in order.
 */
function sampleFields(raw: Uint8Array, expected: number): { values: Int32Array; timestamps: Int32Array } {
  const values: number[] = [];
  const timestamps: number[] = [];
  const r = protobuf.Reader.create(raw);
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag !== ((1 << 3) | 2)) {
      r.skipType(tag & 7);
      continue;
    }
    const seriesEnd = r.uint32() + r.pos;
    while (r.pos < seriesEnd) {
      const field = r.uint32();
      if (field !== ((2 << 3) | 2)) {
        r.skipType(field & 7);
        continue;
      }
      const sampleEnd = r.uint32() + r.pos;
      while (r.pos < sampleEnd) {
        const f = r.uint32();
        const at = r.pos;
        if (f === ((1 << 3) | 1)) values.push(at);
        else if (f === ((2 << 3) | 0)) timestamps.push(at);
        r.skipType(f & 7);
        if (f === ((2 << 3) | 0) && r.pos - at !== 6) throw new Error(`a timestamp took ${r.pos - at} bytes, expected 6`);
      }
    }
  }
  if (values.length !== expected || timestamps.length !== expected) {
    throw new Error(`found ${values.length} values and ${timestamps.length} timestamps in the request, expected ${expected} of each`);
  }
  return { values: Int32Array.from(values), timestamps: Int32Array.from(timestamps) };
}

/** A small seeded generator: the same seed gives the same values in every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Request `k` decoded back (snappy, then protobufjs) and compared with what
 * it should hold; throws on the first difference. Run before the load, so a
 * body that would not say what it means never reaches a receiver.
 */
export function verifyBody(bodies: StampedBodies, k: number): void {
  const raw = snappy.uncompressSync(Buffer.from(bodies.body(k)), { asBuffer: true }) as Buffer;
  const decoded = WRITE_REQUEST.toObject(WRITE_REQUEST.decode(raw), { longs: Number }) as {
    timeseries: { labels: Label[]; samples: { value: number; timestamp: number }[] }[];
  };
  const n = bodies.opts.samplesPerSeries;
  if (decoded.timeseries.length !== bodies.series.length)
    throw new Error(`request ${k} holds ${decoded.timeseries.length} series, expected ${bodies.series.length}`);
  decoded.timeseries.forEach((ts, s) => {
    const want = bodies.series[s]!;
    if (ts.labels.length !== want.length || ts.labels.some((l, i) => l.name !== want[i]!.name || l.value !== want[i]!.value)) {
      throw new Error(`request ${k}, series ${s}: labels differ from the ones encoded`);
    }
    if (ts.samples.length !== n) throw new Error(`request ${k}, series ${s}: ${ts.samples.length} samples, expected ${n}`);
    ts.samples.forEach((sample, j) => {
      const index = k * n + j;
      if (sample.timestamp !== bodies.sampleTime(index) || sample.value !== bodies.sampleValue(s, index)) {
        throw new Error(
          `request ${k}, series ${s}, sample ${j}: (${sample.timestamp}, ${sample.value}), expected (${bodies.sampleTime(index)}, ${bodies.sampleValue(s, index)})`,
        );
      }
    });
  });
}
