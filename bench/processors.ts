/**
 * Processor benchmark: how many points per second each processor gets
 * through on this machine (and per CPU-second, the "per core" figure), and
 * the end-to-end latency from the gateway's 202 to the anomaly row.
 *
 *   npm run bench:processors [-- --json] [--points 1000000] [--series 10000] [--rate 20000] [--seconds 30] [--phase all|throughput|e2e]
 *
 * Throughput: `--points` points go straight into autopilot.metrics, then each
 * processor runs alone as `autopilot run <name>` on that backlog, timed from
 * its first received batch until it has written and committed them all (its
 * own /metrics counters), with its CPU time from /proc. Correlate reads
 * anomalies, not points: it is timed on the anomalies the detect run emitted.
 *
 * Latency: `autopilot run gateway` and `autopilot run processors` under an
 * open-loop load of `--rate` points/s, with a spike on a warmed-up probe
 * series every 200 ms (see anomaly-latency.ts).
 *
 * Each phase runs on a freshly wiped stack of its own (ports 3919x, data in
 * .data/bench-processors/<phase>), stopped after it (and, with every child
 * process, when the benchmark fails or is interrupted): every processor starts
 * with a fresh consumer group, Redis state and ClickHouse, and the latency
 * phase inherits no backlog from the throughput phase. Child logs go to
 * .data/bench-processors/logs/. BENCH_NODE_ARGS passes flags to every
 * child's node (`--cpu-prof --cpu-prof-dir=/tmp/prof` profiles each one).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { stackDown } from '../compose/local/stack.ts';
import { loadConfig } from '../lib/config.ts';
import { createKafka } from '../platform/kafka.ts';
import { createLogger } from '../lib/log.ts';
import { PROCESSOR_NAMES, type ProcessorName } from '../processors/start.ts';
import { TOPICS } from '../schemas/topics.ts';
import { anomalyLatency } from './anomaly-latency.ts';
import { preloadMetrics } from './preload.ts';
import { maxBy, scrape, sumOf } from './scrape.ts';
import { benchStackConfig, benchStackUp, cpuSeconds, logErrors, REPO, spawnAutopilot, stopChild, waitReady } from './stack.ts';
import { Teardown } from './teardown.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    points: { type: 'string', default: '1000000' },
    series: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '10' },
    phase: { type: 'string', default: 'all' },
  },
});
if (!['all', 'throughput', 'e2e'].includes(values.phase)) throw new Error(`--phase is all, throughput or e2e, not ${values.phase}`);
const say = (msg: string) => !values.json && process.stderr.write(`${msg}\n`);
const points = Number(values.points);
const series = Number(values.series);

const root = path.join(REPO, '.data', 'bench-processors');
const logDir = path.join(root, 'logs');
const PHASE_DIRS = { throughput: path.join(root, 'throughput'), e2e: path.join(root, 'e2e') };
const PORTS = { kafka: 39192, kafkaController: 39193, registry: 38181, redis: 36479 };
const GATEWAY_PORT = 38180;
const PROCESSOR_PORT = 38190;
const ADMIN_KEY = 'bench-admin-key';
const SCRAPE_MS = 100;
/** Fewer input records than this, and a processor's figure would time its start-up: it is skipped. */
const MIN_TIMED_RECORDS = 1000;
/** A processor that has not finished its backlog by then is reported on what it did. */
const RUN_LIMIT_MS = 120_000;
/** No record written for this long (a write failing over and over, say): reported as stalled. */
const STALL_MS = 20_000;

/**
 * What each processor is timed on. Correlate reads anomalies, not points: it
 * gets those the detect run emitted. A processor missing here (one added
 * since) is reported as skipped rather than waited for.
 */
const INPUT_OF: Partial<Record<ProcessorName, string>> = {
  sink: TOPICS.metricBatches.topic,
  rollup: TOPICS.metricBatches.topic,
  detect: TOPICS.metricBatches.topic,
  correlate: TOPICS.anomalies.topic,
};

interface ProcessorFigure {
  input: string;
  records: number;
  written: number;
  seconds: number;
  points_per_s: number;
  cpu_s: number;
  points_per_cpu_s: number;
  errors: number;
  dead_letters: number;
  stalled?: boolean;
  incomplete?: boolean;
}

// A run that crashed may have left either phase's stack up on these ports.
for (const dir of Object.values(PHASE_DIRS)) await stackDown(benchStackConfig(dir, PORTS).cfg);
await rm(root, { recursive: true, force: true });
mkdirSync(logDir, { recursive: true });
const teardown = new Teardown().stopOnSignals();
const log = createLogger('bench', 'warn');

try {
  const figures = values.phase === 'e2e' ? {} : await onFreshStack(PHASE_DIRS.throughput, throughputPhase);
  const e2e = values.phase === 'throughput' ? undefined : await onFreshStack(PHASE_DIRS.e2e, latencyPhase);
  const result = {
    bench: 'processors',
    points,
    series,
    cores: availableParallelism(),
    processors: figures,
    e2e,
    log_errors: logErrors(logDir, [...PROCESSOR_NAMES, 'gateway', 'processors']),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    for (const [name, f] of Object.entries(figures)) {
      const line =
        'skipped' in f
          ? `skipped: ${f.skipped}`
          : `${String(f.points_per_s).padStart(8)} records/s  ${String(f.points_per_cpu_s).padStart(8)} per CPU-second  (${f.written} of ${f.input} in ${f.seconds}s)`;
      console.log(`${name.padEnd(10)} ${line}`);
    }
    if (e2e)
      console.log(
        `e2e        ${e2e.rate_per_s} points/s in (target ${e2e.target_rate_per_s}): 202 → anomaly row p50 ${e2e.latency_ms.p50} ms, p99 ${e2e.latency_ms.p99} ms` +
          ` (202 → anomaly record p50 ${e2e.to_topic_ms.p50} ms, p99 ${e2e.to_topic_ms.p99} ms) over ${e2e.probes} probes (${e2e.missed} missed)`,
      );
    console.log(JSON.stringify(result, null, 2));
  }
} finally {
  await teardown.run();
}

async function onFreshStack<T>(dataDir: string, phase: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  say(`bench: starting a fresh local stack in ${path.relative(REPO, dataDir)}…`);
  const { env, stop } = await benchStackUp(dataDir, PORTS, { teardown, fresh: true, say });
  Object.assign(env, { AUTOPILOT_ADMIN_KEY: ADMIN_KEY, GATEWAY_WORKERS: '1' });
  const result = await phase(env);
  await stop();
  return result;
}

/** Every processor alone on the same backlog of `points` points; correlate on the anomalies detect emitted from it. */
async function throughputPhase(env: NodeJS.ProcessEnv): Promise<Partial<Record<ProcessorName, ProcessorFigure | { skipped: string }>>> {
  const kafka = createKafka([env.KAFKA_BROKERS!], 'autopilot-bench', log);
  say(`bench: producing ${points} points over ${series} series into ${TOPICS.metricBatches.topic}…`);
  const preloadStarted = performance.now();
  await preloadMetrics({ kafka, registryUrl: env.SCHEMA_REGISTRY_URL!, partitions: loadConfig(env).topicPartitions, log, tenant: 'bench', points, series });
  say(`bench: produced in ${((performance.now() - preloadStarted) / 1000).toFixed(1)}s`);

  const figures: Partial<Record<ProcessorName, ProcessorFigure | { skipped: string }>> = {};
  for (const name of PROCESSOR_NAMES) {
    const topic = INPUT_OF[name];
    if (!topic) {
      say(`bench: ${name} skipped: this bench feeds it no input`);
      figures[name] = { skipped: 'this bench feeds only metrics (and the anomalies detect emits)' };
      continue;
    }
    const records = topic === TOPICS.metricBatches.topic ? points : await topicSize(kafka, topic);
    // The fleet's samples are noise: a calibrated detector raises about one in 10,000, too few to time anything on.
    if (records < MIN_TIMED_RECORDS) {
      say(`bench: ${name} skipped: ${records} records on ${topic}, fewer than ${MIN_TIMED_RECORDS} to time`);
      figures[name] = { skipped: `only ${records} records on ${topic} (detect raised that many on the fleet's noise)` };
      continue;
    }
    say(`bench: ${name} on ${records} records of ${topic}…`);
    const f = await throughput(env, name, topic, records);
    figures[name] = f;
    say(
      `bench: ${name}: ${f.points_per_s} records/s, ${f.points_per_cpu_s} per CPU-second${f.stalled ? ' (stalled)' : f.incomplete ? ' (did not finish)' : ''}`,
    );
  }
  return figures;
}

/** Gateway and all four processors under steady load, timing probes from 202 to anomaly row. */
async function latencyPhase(env: NodeJS.ProcessEnv) {
  const gatewayUrl = `http://localhost:${GATEWAY_PORT}`;
  const processorsUrl = `http://localhost:${PROCESSOR_PORT}`;
  // Downstream first, and one at a time: two processes registering the schemas at once on a fresh
  // registry can collide (Apicurio answers 409 "rule COMPATIBILITY already exists" to the loser).
  const processors = start(env, 'processors', { PORT: String(PROCESSOR_PORT) });
  await waitReady(`${processorsUrl}/health/ready`, processors, 'processors');
  const gateway = start(env, 'gateway', { PORT: String(GATEWAY_PORT) });
  try {
    await waitReady(`${gatewayUrl}/health/ready`, gateway, 'gateway');
    const cpuAtStart = { gateway: cpuSeconds(gateway.pid!), processors: cpuSeconds(processors.pid!) };
    const wallAtStart = performance.now();
    const r = await anomalyLatency({
      gatewayUrl,
      apiKey: 'bench-key',
      sqlUrl: processorsUrl,
      adminKey: ADMIN_KEY,
      rate: Number(values.rate),
      batch: 500,
      seconds: Number(values.seconds),
      warmupSeconds: Number(values.warmup),
      series,
      probeEveryMs: 200,
      pollMs: 50,
      kafka: createKafka([env.KAFKA_BROKERS!], 'autopilot-bench', log),
      registryUrl: env.SCHEMA_REGISTRY_URL!,
      say,
    });
    const wall = (performance.now() - wallAtStart) / 1000;
    const metrics = await scrape(processorsUrl);
    const cores = (child: ChildProcess, before: number) => Number(((cpuSeconds(child.pid!) - before) / wall).toFixed(2));
    const ms = (n: number) => Number(n.toFixed(1));
    return {
      target_rate_per_s: r.targetRate,
      rate_per_s: r.rate,
      seconds: r.seconds,
      latency_ms: { p50: ms(r.p50), p99: ms(r.p99), max: ms(r.max) },
      to_topic_ms: { p50: ms(r.toTopic.p50), p99: ms(r.toTopic.p99) },
      probes: r.probes,
      missed: r.missed,
      failures: r.failures,
      skipped_batches: r.skippedBatches,
      ...(r.firstFailure ? { first_failure: r.firstFailure } : {}),
      cpu_cores: { gateway: cores(gateway, cpuAtStart.gateway), processors: cores(processors, cpuAtStart.processors) },
      // The processors share one event loop: how long a ready callback waited for it (prom-client's monitor, since start).
      event_loop_delay_ms: {
        p99: ms(1000 * sumOf(metrics, 'autopilot_nodejs_eventloop_lag_p99_seconds')),
        max: ms(1000 * sumOf(metrics, 'autopilot_nodejs_eventloop_lag_max_seconds')),
      },
      lag_at_end: maxBy(metrics, 'autopilot_processor_consumer_lag', 'processor'),
    };
  } finally {
    for (const child of [gateway, processors]) await stopChild(child, 30_000);
  }
}

/** `autopilot run <component>` with its output in logs/<component>.log, stopped at teardown if not before. */
function start(env: NodeJS.ProcessEnv, component: string, extraEnv: NodeJS.ProcessEnv): ChildProcess {
  const out = openSync(path.join(logDir, `${component}.log`), 'a');
  // BENCH_NODE_ARGS passes flags to every child's node, e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile each processor.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return spawnAutopilot(component, { ...env, ...extraEnv }, teardown, { nodeArgs, stdio: ['ignore', out, out], stopGraceMs: 30_000 });
}

/**
 * Runs one processor alone on `records` waiting records of `topic`. The clock
 * and CPU meter start at the first scrape that shows a received batch (so
 * start-up, ClickHouse migrations and the group join are not counted) and stop
 * at the first that shows them all written and committed.
 */
async function throughput(env: NodeJS.ProcessEnv, name: ProcessorName, topic: string, records: number): Promise<ProcessorFigure> {
  const child = start(env, name, { PORT: String(PROCESSOR_PORT) });
  const url = `http://localhost:${PROCESSOR_PORT}`;
  const labels = { processor: name, topic };
  try {
    const startDeadline = Date.now() + RUN_LIMIT_MS;
    let begun: { at: number; cpu: number } | undefined;
    let text = '';
    let written = 0;
    let progressAt = 0;
    let outcome: 'done' | 'stalled' | 'incomplete';
    for (;;) {
      await sleep(SCRAPE_MS);
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} (log: ${path.join(logDir, `${name}.log`)})`);
      const scraped = await scrape(url).catch(() => undefined);
      if (scraped === undefined) continue; // not serving yet
      text = scraped;
      const now = performance.now();
      // The sink gathers rows into large inserts: it is done when they are in ClickHouse, not when handled.
      const nowWritten =
        name === 'sink'
          ? sumOf(text, 'autopilot_sink_rows_written_total', { table: 'metric_points' })
          : sumOf(text, 'autopilot_processor_written_total', labels);
      if (nowWritten > written) progressAt = now;
      written = nowWritten;
      if (!begun && sumOf(text, 'autopilot_processor_received_total', labels) > 0) begun = { at: (progressAt = now), cpu: cpuSeconds(child.pid!) };
      if (!begun) {
        if (Date.now() > startDeadline) throw new Error(`${name} received nothing within ${RUN_LIMIT_MS / 1000}s`);
        continue;
      }
      if (written >= records) outcome = 'done';
      else if (now - progressAt > STALL_MS) outcome = 'stalled';
      else if (now - begun.at > RUN_LIMIT_MS) outcome = 'incomplete';
      else continue;
      break;
    }
    const seconds = (performance.now() - begun.at) / 1000;
    const cpu = cpuSeconds(child.pid!) - begun.cpu;
    const done = Math.min(written, records);
    return {
      input: topic,
      records,
      written: done,
      seconds: Number(seconds.toFixed(2)),
      points_per_s: Math.round(done / seconds),
      cpu_s: Number(cpu.toFixed(2)),
      points_per_cpu_s: Math.round(done / cpu),
      errors: sumOf(text, 'autopilot_processor_errors_total', { processor: name }),
      dead_letters: sumOf(text, 'autopilot_processor_dead_letters_total', { processor: name }),
      ...(outcome === 'stalled' ? { stalled: true } : outcome === 'incomplete' ? { incomplete: true } : {}),
    };
  } finally {
    await stopChild(child, 30_000);
  }
}

/** Records in a topic (every partition, from its low to its high watermark). */
async function topicSize(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}
