/**
 * Remote-write benchmark: the same Prometheus remote-write 1.0 load sent to
 * Prometheus 2.42's own receiver (`--web.enable-remote-write-receiver`) and
 * then to the gateway's POST /api/v1/write, one after the other on this
 * machine (Prometheus is stopped and its folder removed before the gateway
 * starts): samples/s accepted by each, request latency p50/p99, errors, and
 * the ratio gateway / Prometheus.
 *
 *   npm run bench:remote-write [-- --json] [--seconds 20] [--warmup 5] [--concurrency 8]
 *     [--series 10000] [--samples-per-series 1] [--only prometheus|gateway]
 *
 * The load is what a Prometheus sender does: the series are split over
 * `concurrency` connections (its shards), and each connection sends, one
 * request at a time, every one of its series with its next
 * `samples-per-series` samples (10,000 series over 8 connections: 1,250
 * samples a request, about 50 KB of snappy). Timestamps start 15 minutes ago
 * and keep increasing by 100 ms per sample, so neither receiver refuses a
 * sample as old or out of order; the sequence starts over for each receiver,
 * so both get the same bytes. Bodies are encoded once with protobufjs and
 * snappy; each request only writes its timestamps and values in place.
 *
 * Samples/s counts samples in 2xx answers only, over the measured seconds
 * (after the warm-up, which also creates Prometheus's series). Any non-2xx
 * answer, or a receiver whose own counter (Prometheus's
 * prometheus_tsdb_head_samples_appended_total, the gateway's
 * autopilot_gateway_records_accepted_total) disagrees with the samples it
 * accepted, makes the run invalid (`valid: false`): its figures mean nothing.
 *
 * What the figures say, and what they do not:
 * - Both receivers answer only once the samples are durable in their own
 *   sense: Prometheus after appending them to its in-memory head and logging
 *   them to its WAL (not fsynced); the gateway after Kafka acknowledged them with
 *   acks=all (one local broker: written to its log, not fsynced), having
 *   decoded them and encoded one Avro record per sample. The work is not the
 *   same work; the comparison is of what a sender sees.
 * - Everything shares the machine's cores: the load generator (this
 *   process, about a tenth of a core at Prometheus's pace), the receiver,
 *   and for the gateway the Kafka broker (and an idle registry and Redis).
 *   `cpu_s` says who used the CPU during the measured seconds, `other`
 *   being everything else on the machine (other people's work included: a
 *   run with much `other` is a noisy one), and `cpu_s_per_million_samples`
 *   the receiver's own cost (gateway: its processes plus Kafka's), the
 *   steadier figure of the two when the machine is shared.
 * - Bodies are somewhat larger than snappy's own (timestamps and values are
 *   kept as literals so they can be rewritten): the same bytes for both.
 *
 * The gateway runs as `autopilot run gateway` (a node:cluster, GATEWAY_WORKERS
 * workers, one per core by default) on the benchmarks' own local stack
 * (ports 3909x, data in .data/bench); BENCH_NODE_ARGS passes flags to its
 * node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it under load.
 * Prometheus, the gateway and the stack's services this run started are
 * stopped when it ends, on Ctrl-C too; services it found running stay up.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stackStatus } from '../compose/local/stack.ts';
import { closedLoop, percentile, type LoadResult } from './load.ts';
import { startPrometheusReceiver } from './prometheus-receiver.ts';
import { exporterSeries, StampedBodies, verifyBody } from './remote-write-body.ts';
import { scrape, sumOf } from './scrape.ts';
import { benchStackUp, cpuSeconds, REPO, spawnAutopilot, stopChild, waitReady } from './stack.ts';
import { Teardown } from './teardown.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
    series: { type: 'string', default: '10000' },
    'samples-per-series': { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
const round = (n: number, digits: number) => Number(n.toFixed(digits));
const say = (msg: string) => !values.json && process.stderr.write(`${msg}\n`);
const warn = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const concurrency = Number(values.concurrency);
const seriesCount = Number(values.series);
const samplesPerSeries = Number(values['samples-per-series']);
if (!(concurrency >= 1 && seriesCount >= concurrency && samplesPerSeries >= 1 && seconds > 0 && warmup >= 0)) {
  throw new Error('need --concurrency >= 1, --series >= --concurrency, --samples-per-series >= 1, --seconds > 0, --warmup >= 0');
}
if (values.only !== undefined && values.only !== 'prometheus' && values.only !== 'gateway') throw new Error('--only is prometheus or gateway');
const runs = (receiver: 'prometheus' | 'gateway') => values.only === undefined || values.only === receiver;

say(`bench: building ${seriesCount} series over ${concurrency} connections…`);
const series = exporterSeries(seriesCount);
const startMs = Date.now() - 15 * 60_000;
// Connection c sends series c, c + concurrency, …: a sender's shard, which alone ever sends those series.
const senders = Array.from(
  { length: concurrency },
  (_, c) =>
    new StampedBodies(
      series.filter((_, i) => i % concurrency === c),
      { samplesPerSeries, startMs, stepMs: 100, seed: c + 1 },
    ),
);
for (const sender of senders) {
  verifyBody(sender, 0);
  verifyBody(sender, 1);
}
const samplesPerRequest = round((seriesCount * samplesPerSeries) / concurrency, 1);
const bodyBytes = Math.round(senders.reduce((sum, s) => sum + s.byteLength, 0) / concurrency);

const headers = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
  'user-agent': 'autopilot-bench/remote-write',
};

interface Phase {
  samples_per_s: number;
  requests_per_s: number;
  requests: number;
  failures: number;
  warmup_failures: number;
  seconds: number;
  latency_ms: { p50: number; p99: number };
  cpu_s: Record<string, number>;
  cpu_s_per_million_samples: number;
  /** Samples in 2xx answers over warm-up and measurement, and how many the receiver's own counter says it stored: they must agree. */
  samples_sent: number;
  samples_stored: number;
  first_failure?: string;
}

/**
 * Warm-up, then the measured closed loop: one loop per connection, each
 * sending its own series' requests 0, 1, 2… in order. `receiverPids` are the
 * processes whose CPU is the receiver's, by name; `stored` reads the
 * receiver's own count of samples stored.
 */
async function measure(
  url: string,
  reqHeaders: Record<string, string>,
  receiverPids: () => Record<string, number[]>,
  stored: () => Promise<number>,
): Promise<Phase> {
  const next = senders.map(() => 0);
  const load = (s: number) =>
    Promise.all(senders.map((sender, c) => closedLoop({ url, headers: reqHeaders, bodies: () => sender.body(next[c]!++), concurrency: 1, seconds: s })));
  const warm = warmup > 0 ? await load(warmup) : [];
  const pids = receiverPids();
  const before = { receivers: cpuOf(pids), self: process.cpuUsage(), machine: machineBusySeconds() };
  const results = await load(seconds);
  const after = { receivers: cpuOf(pids), self: process.cpuUsage(before.self), machine: machineBusySeconds() };

  const ok = results.map((r) => r.requests - r.failures);
  const samplesOf = (rs: LoadResult[]) => rs.reduce((sum, r, c) => sum + (r.requests - r.failures) * senders[c]!.samplesPerRequest, 0);
  const samples = samplesOf(results);
  const elapsed = Math.max(...results.map((r) => r.seconds));
  const latencies = results.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  const cpu: Record<string, number> = {};
  for (const name of Object.keys(pids)) cpu[name] = round(after.receivers[name]! - before.receivers[name]!, 1);
  cpu.generator = round((after.self.user + after.self.system) / 1e6, 1);
  const receiverCpu = Object.values(cpu).reduce((sum, s) => sum + s, 0) - cpu.generator;
  cpu.other = round(Math.max(0, after.machine - before.machine - receiverCpu - cpu.generator), 1);
  const firstFailure = [...warm, ...results].find((r: LoadResult) => r.firstFailure)?.firstFailure;
  return {
    samples_per_s: Math.round(samples / elapsed),
    requests_per_s: Math.round(ok.reduce((a, b) => a + b, 0) / elapsed),
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    failures: results.reduce((sum, r) => sum + r.failures, 0),
    warmup_failures: warm.reduce((sum, r) => sum + r.failures, 0),
    seconds: round(elapsed, 1),
    latency_ms: { p50: round(percentile(latencies, 0.5), 1), p99: round(percentile(latencies, 0.99), 1) },
    cpu_s: cpu,
    cpu_s_per_million_samples: round(receiverCpu / (samples / 1e6), 2),
    samples_sent: samplesOf(warm) + samples,
    samples_stored: await stored(),
    ...(firstFailure ? { first_failure: firstFailure } : {}),
  };
}

function cpuOf(pids: Record<string, number[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, list]) => [name, list.reduce((sum, pid) => sum + cpuSeconds(pid), 0)]));
}

/** CPU seconds the whole machine spent busy so far (/proc/stat, ticks of 1/100 s): user, nice, system, irq, softirq, steal. */
function machineBusySeconds(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

let prometheus: Phase | undefined;
let gateway: Phase | undefined;
// One teardown for the whole run: each phase stops its receiver itself, and the stack's services are stopped at the end.
const teardown = new Teardown().stopOnSignals();
try {
  if (runs('prometheus')) {
    say('bench: starting Prometheus 2.42 as a remote-write receiver…');
    const receiver = await startPrometheusReceiver(teardown);
    try {
      say(`bench: Prometheus: warm-up ${warmup}s, then ${seconds}s, ${concurrency} connections, ${samplesPerRequest} samples a request…`);
      prometheus = await measure(
        `${receiver.base}/api/v1/write`,
        headers,
        () => ({ prometheus: [receiver.child.pid!] }),
        async () => sumOf(await scrape(receiver.base), 'prometheus_tsdb_head_samples_appended_total'),
      );
      if (prometheus.failures + prometheus.warmup_failures > 0) warn(`Prometheus refused requests; its log ends with:\n${receiver.logTail()}`);
    } finally {
      await receiver.stop();
    }
  }

  if (runs('gateway')) {
    say('bench: starting the local stack…');
    const { cfg, env } = await benchStackUp(
      path.join(REPO, '.data', 'bench'),
      { kafka: 39092, kafkaController: 39093, registry: 38081, redis: 36379 },
      { teardown, say },
    );
    env.PORT = '38082';
    const kafkaPid = (await stackStatus(cfg)).find((s) => s.name === 'kafka')?.pid;
    const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawnAutopilot('gateway', env, teardown, { nodeArgs });
    try {
      const base = `http://localhost:${env.PORT}`;
      await waitReady(`${base}/health/ready`, child, 'gateway');
      say(`bench: gateway: warm-up ${warmup}s, then ${seconds}s, ${concurrency} connections, ${samplesPerRequest} samples a request…`);
      gateway = await measure(
        `${base}/api/v1/write`,
        { ...headers, authorization: 'Bearer bench-key' },
        () => {
          // A cluster: the primary and each worker.
          const workers = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
          return { gateway: [child.pid!, ...workers], ...(kafkaPid ? { kafka: [kafkaPid] } : {}) };
        },
        async () => sumOf(await scrape(base), 'autopilot_gateway_records_accepted_total', { protocol: 'remote_write', kind: 'metrics' }),
      );
    } finally {
      await stopChild(child);
    }
  }
} finally {
  await teardown.run();
}

const valid = [prometheus, gateway].every((p) => p === undefined || (p.failures + p.warmup_failures === 0 && p.samples_stored === p.samples_sent));
if (!valid) warn('requests were refused, or a receiver stored another number of samples than it accepted: the figures of this run are not valid');
const result = {
  bench: 'remote-write',
  series: seriesCount,
  samples_per_series: samplesPerSeries,
  samples_per_request: samplesPerRequest,
  body_bytes: bodyBytes,
  concurrency,
  warmup,
  seconds,
  prometheus: prometheus ?? null,
  gateway: gateway ?? null,
  ratio: prometheus && gateway ? round(gateway.samples_per_s / prometheus.samples_per_s, 2) : null,
  valid,
};
if (values.json) console.log(JSON.stringify(result));
else console.log(result);
