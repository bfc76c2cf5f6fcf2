/**
 * Log batch shapes (issue 11): which Avro shape a log batch record should
 * have. CPU and bytes only, no services. CPU time per line, median of
 * --repeat rounds:
 *
 * - encode: the request's streams (schemas/log-batch.ts) → the record's Avro
 *   bytes, building the record included.
 * - decode: the bytes → the decoded record, then every stream's service and
 *   labels object made once and every line's time, level and text read, as
 *   the sink and error-rate do (processors/runtime/log-batches.ts).
 *
 * Shapes: `symbols` (schemas/log_batch.avsc: strings once, streams as
 * references), `inline` (each stream spells its service and labels map), and
 * `per-line` (log_entry.avsc, one record per line: what was sent before).
 *
 *   npm run bench:log-batch-shapes [-- --json] [--ms 200] [--repeat 9]
 *
 * Figures, never pass/fail; on a shared machine, compare within one run.
 */
import { parseArgs } from 'node:util';
import avro from 'avsc';
import { labelsOf, streamsOf, toLogBatch, type LogStream } from '../schemas/log-batch.ts';
import { TOPICS, type LogBatch, type LogEntry } from '../schemas/topics.ts';

const { values: args } = parseArgs({
  options: { json: { type: 'boolean', default: false }, ms: { type: 'string', default: '200' }, repeat: { type: 'string', default: '9' } },
});

const T0 = Date.UTC(2026, 0, 31, 12);
const text = (i: number) => `GET /api/v1/items/${i % 977} 200 ${(i * 7) % 300}ms user=${(i * 13) % 5000} trace=${(i * 2654435761) % 4294967296}`;

/** A Loki push from one node's agent: 8 streams of 250 lines. JSON-style requests: 1000 lines over 400 pods. */
const INPUTS: Record<string, LogEntry[]> = {
  'loki-8x250': Array.from({ length: 2000 }, (_, i) => {
    const s = i % 8;
    return {
      tenant: 'acme',
      timestamp: T0 + i,
      level: i % 50 ? 'info' : 'error',
      message: text(i),
      service: `svc-${s % 4}`,
      labels: { container: `c-${s}`, env: 'prod', namespace: 'shop', node: 'node-7' },
    };
  }),
  'json-1000of400': Array.from({ length: 1000 }, (_, i) => {
    const pod = (i * 7) % 400;
    return {
      tenant: 'acme',
      timestamp: T0 + i,
      level: i % 50 ? 'info' : 'error',
      message: text(i),
      service: `svc-${pod % 20}`,
      labels: { env: 'prod', pod: `pod-${pod}`, region: 'eu-west-1' },
    };
  }),
};

const inlineSchema = JSON.parse(TOPICS.logBatches.schema);
inlineSchema.name = 'LogBatchInline';
inlineSchema.fields = inlineSchema.fields.filter((f: { name: string }) => f.name !== 'symbols');
inlineSchema.fields.find((f: { name: string }) => f.name === 'streams').type.items = {
  type: 'record',
  name: 'LogBatchInlineStream',
  fields: [
    { name: 'service', type: 'string' },
    { name: 'labels', type: { type: 'map', values: 'string' } },
    { name: 'entry_count', type: 'int' },
  ],
};
interface InlineBatch extends Omit<LogBatch, 'symbols' | 'streams'> {
  streams: { service: string; labels: Record<string, string>; entry_count: number }[];
}

const symbolsType = avro.Type.forSchema(JSON.parse(TOPICS.logBatches.schema));
const inlineType = avro.Type.forSchema(inlineSchema);
const lineType = avro.Type.forSchema(JSON.parse(TOPICS.logs.schema));

let sink = 0; // keeps the reads from being optimised away
const readLines = (b: { base_timestamp: number; timestamps: number[]; levels: string[]; messages: string[] }, from: number, to: number) => {
  for (let i = from; i < to; i++) sink += b.base_timestamp + b.timestamps[i]! + b.levels[i]!.length + b.messages[i]!.length;
};

interface Shape {
  encode(streams: LogStream[], entries: LogEntry[]): Buffer[];
  decode(buffers: Buffer[]): void;
}

const SHAPES: Record<string, Shape> = {
  symbols: {
    encode: (streams) => [symbolsType.toBuffer(toLogBatch(streams))],
    decode: (buffers) => {
      for (const buf of buffers) {
        const b = symbolsType.fromBuffer(buf) as LogBatch;
        let at = 0;
        for (const s of b.streams) {
          sink += b.symbols[s.service_ref]!.length + Object.keys(labelsOf(b, s.labels_refs)).length;
          readLines(b, at, (at += s.entry_count));
        }
      }
    },
  },
  inline: {
    encode: (streams) => {
      const base = streams[0]!.timestamps[0]!;
      const batch: InlineBatch = { tenant: streams[0]!.tenant, base_timestamp: base, streams: [], timestamps: [], levels: [], messages: [] };
      for (const s of streams) {
        batch.streams.push({ service: s.service, labels: s.labels, entry_count: s.messages.length });
        for (let i = 0; i < s.messages.length; i++) {
          batch.timestamps.push(s.timestamps[i]! - base);
          batch.levels.push(s.levels[i]!);
          batch.messages.push(s.messages[i]!);
        }
      }
      return [inlineType.toBuffer(batch)];
    },
    decode: (buffers) => {
      for (const buf of buffers) {
        const b = inlineType.fromBuffer(buf) as InlineBatch;
        let at = 0;
        for (const s of b.streams) {
          sink += s.service.length + Object.keys(s.labels).length;
          readLines(b, at, (at += s.entry_count));
        }
      }
    },
  },
  'per-line': {
    encode: (_streams, entries) => entries.map((e) => lineType.toBuffer(e)),
    decode: (buffers) => {
      for (const buf of buffers) {
        const e = lineType.fromBuffer(buf) as LogEntry;
        sink += e.timestamp + e.level.length + e.message.length + e.service.length + Object.keys(e.labels).length;
      }
    },
  },
};

/** CPU nanoseconds per line of `run` (process CPU time: steadier than wall time on a shared machine), repeated for `ms`. */
function timed(lines: number, run: () => void): number {
  const until = performance.now() + Number(args.ms);
  let runs = 0;
  const start = process.cpuUsage();
  while (performance.now() < until) {
    run();
    runs++;
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / runs / lines;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// Every round measures every input and shape, so a burst of load from elsewhere moves one round, not the comparison.
const samples = new Map<string, { input: string; shape: string; encode: number[]; decode: number[]; bytes: number }>();
for (let r = 0; r < Number(args.repeat); r++) {
  for (const [input, entries] of Object.entries(INPUTS)) {
    for (const [name, shape] of Object.entries(SHAPES)) {
      const key = `${input}/${name}`;
      if (!samples.has(key)) samples.set(key, { input, shape: name, encode: [], decode: [], bytes: 0 });
      const s = samples.get(key)!;
      s.encode.push(timed(entries.length, () => shape.encode(streamsOf(entries), entries)));
      const buffers = shape.encode(streamsOf(entries), entries);
      s.bytes = buffers.reduce((n, b) => n + b.length, 0);
      s.decode.push(timed(entries.length, () => shape.decode(buffers)));
    }
  }
}
const results = [...samples.values()].map((s) => ({
  input: s.input,
  shape: s.shape,
  encodeNs: Math.round(median(s.encode)),
  decodeNs: Math.round(median(s.decode)),
  bytesPerLine: Math.round(s.bytes / INPUTS[s.input]!.length),
}));

if (args.json) process.stdout.write(`${JSON.stringify({ results }, null, 2)}\n`);
else {
  process.stdout.write('input            shape      encode ns/line  decode ns/line  bytes/line\n');
  for (const r of results)
    process.stdout.write(
      `${r.input.padEnd(17)}${r.shape.padEnd(11)}${String(r.encodeNs).padStart(14)}${String(r.decodeNs).padStart(16)}${String(r.bytesPerLine).padStart(12)}\n`,
    );
}
if (sink === 0.5) process.stdout.write('\n');
