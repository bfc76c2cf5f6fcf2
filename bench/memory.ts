/**
 * Memory benchmark: the resident memory of every Autopilot process while it
 * holds `--series` active series at a steady `--rate`, and what one series
 * costs in Redis and in the detector's memory.
 *
 *   npm run bench:memory [-- --json] [--series 100000] [--rate 50000] [--seconds 120] [--warmup 15]
 *                        [--gateway-workers 1] [--drain 60] [--every 3] [--projection-series 1000]
 *
 * It starts a fresh local stack of its own (ports 3939x, data in
 * .data/bench-memory/stack, child logs in .data/bench-memory/logs), then
 * `autopilot run processors` (every processor, one process, the embedded
 * ClickHouse) and `autopilot run gateway` (GATEWAY_WORKERS from
 * --gateway-workers), as the bench:processors e2e phase does. The load is
 * open loop: a JSON batch of 1000 points to POST /v1/metrics every
 * 1000/rate seconds whether or not the last was answered, cycling through the
 * series, so each series gets a sample every series/rate seconds, normal
 * around a level of its own (bench/fleet.ts) as the detector would see in life.
 *
 * While measuring, every `--every` seconds it reads VmRSS of the gateway, its
 * workers and the processors process (and any child of theirs) from /proc.
 * After the load it lets the processors drain for up to `--drain` seconds,
 * then reports: RSS per process (peak, at the end of the load, growth per
 * minute) and in total, with the V8 heap and the embedded ClickHouse's own
 * tracked memory at the end of the load; Redis used_memory, DBSIZE and the baselines' keys
 * (`<group>:baseline:<series>`, their count and, over a sample of them,
 * STRLEN and MEMORY USAGE); samples accepted (202) vs stored (rows in
 * metric_points); each processor's consumer lag at the end; the load average.
 *
 * A series' detector state is a fixed Float64Array (processors/runtime/
 * detector.ts), the same size after 10 samples as after a year; the
 * projection measures it in this process too (N states fed PROJECTION_SAMPLES
 * samples through observe(), V8 heap and array buffers before and after a
 * full GC) and multiplies out.
 *
 * Everything it started is stopped at the end, on failure and on Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Redis } from 'ioredis';
import { emptyState, observe, type DetectorConfig, type DetectorState } from '../processors/runtime/detector.ts';
import { decodeState, encodeState } from '../processors/runtime/detector-store.ts';
import { detectorConfig } from '../processors/runtime/detector-config.ts';
import { PROCESSOR_NAMES } from '../processors/start.ts';
import { fleetSample } from './fleet.ts';
import { commandName, processTree, readRss, RssTrace, type RssReading } from './process-memory.ts';
import { scrape, sumOf } from './scrape.ts';
import { benchStackUp, logErrors, REPO, spawnAutopilot, stopChild, waitReady } from './stack.ts';
import { Teardown } from './teardown.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    series: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '50000' },
    seconds: { type: 'string', default: '120' },
    warmup: { type: 'string', default: '15' },
    'gateway-workers': { type: 'string', default: '1' },
    drain: { type: 'string', default: '60' },
    every: { type: 'string', default: '3' },
    'projection-series': { type: 'string', default: '1000' },
  },
});
const say = (msg: string) => !values.json && process.stderr.write(`${msg}\n`);
const SERIES = Number(values.series);
const RATE = Number(values.rate);

const ROOT = path.join(REPO, '.data', 'bench-memory');
const STACK_DIR = path.join(ROOT, 'stack');
const LOG_DIR = path.join(ROOT, 'logs');
const PORTS = { kafka: 39392, kafkaController: 39393, registry: 38381, redis: 36679 };
const GATEWAY_PORT = 38380;
const PROCESSORS_PORT = 38390;
const ADMIN_KEY = 'bench-admin-key';
const TENANT = 'bench'; // AUTOPILOT_API_KEYS=bench:bench-key (bench/stack.ts)
const BATCH = 1000;
/** Requests awaiting an answer beyond this are not sent: the gateway is behind, and the shortfall shows as skipped batches. */
const MAX_IN_FLIGHT = 32;
/** Baseline keys whose STRLEN and MEMORY USAGE are read (the first SCAN returns, in hash order: an unbiased sample). */
const KEY_SAMPLE = 500;
/** Stored rows not growing for this long during the drain: the processors have written what they will. */
const DRAIN_STILL_MS = 15_000;
const GIB_MB = 1024;
/** Samples each projected detector state is fed: its size does not depend on it, which the projection shows. */
const PROJECTION_SAMPLES = 1000;

interface LoadCounts {
  accepted: number;
  failures: number;
  skippedBatches: number;
  firstFailure?: string;
  seconds: number;
}

// Measured before the stack starts, so nothing else shares this process's heap or the cores while it runs.
say(`bench: projection: feeding ${values['projection-series']} detector states ${PROJECTION_SAMPLES} samples each…`);
const projection = projectBaselineMemory(Number(values['projection-series']), detectorConfig(process.env));
say(
  `bench: projection: after ${projection.samples} samples: ${kb(projection.bytes_per_series_learned)} KiB per series learned live (${kb(projection.heap_bytes_per_series_learned)} of it V8 heap), ${kb(projection.bytes_per_series_restored)} KiB restored from Redis`,
);

await rm(LOG_DIR, { recursive: true, force: true });
mkdirSync(LOG_DIR, { recursive: true });
const teardown = new Teardown().stopOnSignals();
try {
  const loadAtStart = loadavg();
  say(`bench: starting a fresh local stack in ${path.relative(REPO, STACK_DIR)}…`);
  const { env } = await benchStackUp(STACK_DIR, PORTS, { teardown, fresh: true, say });
  Object.assign(env, { AUTOPILOT_ADMIN_KEY: ADMIN_KEY, GATEWAY_WORKERS: values['gateway-workers'] });

  const redis = new Redis(env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  teardown.defer('the Redis client', async () => redis.disconnect());

  // Downstream first, one at a time: two processes registering schemas at once on a fresh registry can collide.
  const processorsUrl = `http://localhost:${PROCESSORS_PORT}`;
  const gatewayUrl = `http://localhost:${GATEWAY_PORT}`;
  const processors = start(env, 'processors', PROCESSORS_PORT);
  await waitReady(`${processorsUrl}/health/ready`, processors, 'processors');
  const gateway = start(env, 'gateway', GATEWAY_PORT);
  await waitReady(`${gatewayUrl}/health/ready`, gateway, 'gateway');
  const roots = { gateway, processors };
  const redisBefore = await redisMemory(redis);

  let cursor = 0;
  const nextBatch = () => JSON.stringify(Array.from({ length: BATCH }, () => fleetSample(cursor++ % SERIES, Date.now())));
  const send = (seconds: number) => openLoop(`${gatewayUrl}/v1/metrics`, nextBatch, seconds);

  say(`bench: warm-up ${values.warmup}s at ${RATE} samples/s over ${SERIES} series (one sample per series every ${(SERIES / RATE).toFixed(2)}s)…`);
  const warm = await send(Number(values.warmup));
  say(`bench: measuring ${values.seconds}s, RSS every ${values.every}s…`);
  const trace = new RssTrace();
  const started = performance.now();
  const read = () => trace.add((performance.now() - started) / 1000, readTree(roots));
  read();
  const sampler = setInterval(read, Number(values.every) * 1000);
  let load: LoadCounts;
  try {
    load = await send(Number(values.seconds));
  } finally {
    clearInterval(sampler);
  }
  read(); // the end of the load: the state the series are held in
  const heaps = { gateway: await heapOf(gatewayUrl), processors: await heapOf(processorsUrl) };
  const clickhouseTracked = await clickhouseTrackedMb(processorsUrl).catch(() => undefined);
  for (const [name, child] of Object.entries(roots)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited (${child.signalCode ?? `code ${child.exitCode}`}) during the load (log: ${path.join(LOG_DIR, `${name}.log`)})`);
  }

  const accepted = warm.accepted + load.accepted;
  say(`bench: load done (${accepted} samples accepted); letting the processors drain for up to ${values.drain}s…`);
  const drained = await drain(processors, processorsUrl, accepted, Number(values.drain) * 1000);
  const afterDrain = [...readTree(roots).values()].reduce((sum, r) => sum + r.rssKb, 0);
  const lagText = await retried(processors, () => scrape(processorsUrl));
  const lag = Object.fromEntries(PROCESSOR_NAMES.map((p) => [p, sumOf(lagText, 'autopilot_processor_consumer_lag', { processor: p })]));
  const redisAfter = await redisMemory(redis);
  const baselines = await baselineKeys(redis);
  const loadAtEnd = loadavg();
  for (const child of [gateway, processors]) await stopChild(child, 30_000);

  const total = trace.total();
  const baselineCount = Object.values(baselines.keys).reduce((a, b) => a + b, 0);
  // Redis's own overhead per key (key, dict entry, SDS header), measured, plus the state's fixed bytes.
  const overhead = baselines.memoryUsageAvg - baselines.strlenAvg;
  const redisPerSeries = Math.round(overhead + projection.redis_value_bytes);
  const result = {
    bench: 'memory',
    series: SERIES,
    target_rate_per_s: RATE,
    rate_per_s: Math.round(load.accepted / load.seconds),
    seconds: Number(load.seconds.toFixed(1)),
    warmup_seconds: Number(values.warmup),
    gateway_workers: Number(values['gateway-workers']),
    cores: availableParallelism(),
    load_average: { start: loadAtStart.map(round2), end: loadAtEnd.map(round2) },
    rss_mb: {
      processes: trace.perProcess(),
      total: { ...total, after_drain_mb: Math.round(afterDrain / 1024) },
      readings: trace.readings,
      v8_heap_at_end: heaps,
      /** The embedded ClickHouse's own count of what it holds (system.metrics MemoryTracking), inside the processors' anon RSS. */
      clickhouse_tracked_at_end_mb: clickhouseTracked,
      under_1gib: total.peak_mb < GIB_MB,
    },
    samples: {
      accepted,
      stored: drained.stored,
      missing: accepted - drained.stored,
      drain_seconds: drained.seconds,
      failures: warm.failures + load.failures,
      skipped_batches: warm.skippedBatches + load.skippedBatches,
      ...((load.firstFailure ?? warm.firstFailure) ? { first_failure: load.firstFailure ?? warm.firstFailure } : {}),
    },
    lag_records_at_end: lag,
    redis: {
      used_memory_mb: mib(redisAfter.usedMemory),
      used_memory_before_mb: mib(redisBefore.usedMemory),
      used_memory_rss_mb: mib(redisAfter.usedMemoryRss),
      dbsize: redisAfter.dbsize,
      baseline_keys: baselines.keys,
      sampled_keys: baselines.sampled,
      baseline_strlen_avg: Math.round(baselines.strlenAvg),
      baseline_memory_usage_avg: Math.round(baselines.memoryUsageAvg),
      used_memory_growth_per_series: baselineCount ? Math.round((redisAfter.usedMemory - redisBefore.usedMemory) / baselineCount) : null,
    },
    projection: {
      ...projection,
      redis_bytes_per_series: redisPerSeries,
      for_series: {
        series: SERIES,
        detect_memory_mb: mib(projection.bytes_per_series_learned * SERIES),
        redis_mb: mib(redisPerSeries * SERIES),
      },
    },
    rss_total_trace: trace.totalTrace(),
    log_errors: logErrors(LOG_DIR, ['gateway', 'processors']),
  };

  if (values.json) console.log(JSON.stringify(result));
  else {
    const r = result;
    const p = r.projection;
    console.log(
      [
        `memory: ${r.series} series at ${r.rate_per_s} samples/s accepted (target ${r.target_rate_per_s}) for ${r.seconds}s, gateway workers ${r.gateway_workers}, load average ${r.load_average.start.join(' ')} → ${r.load_average.end.join(' ')} on ${r.cores} cores`,
        'RSS (MiB)              peak    end    hwm   anon   file  growth/min',
        ...Object.entries(r.rss_mb.processes).map(
          ([name, f]) =>
            `  ${name.padEnd(18)} ${pad(f.peak_mb)} ${pad(f.end_mb)} ${pad(f.hwm_mb)} ${pad(f.end_anon_mb)} ${pad(f.end_file_mb)} ${pad(f.growth_mb_per_min, 11)}`,
        ),
        `  ${'total'.padEnd(18)} ${pad(total.peak_mb)} ${pad(total.end_mb)} ${' '.repeat(21)} ${pad(total.growth_mb_per_min, 11)}   (after the drain ${r.rss_mb.total.after_drain_mb}; peak ${r.rss_mb.under_1gib ? 'under' : 'OVER'} 1 GiB)`,
        `V8 heap at the end of the load (MiB used/total/external): ${Object.entries(r.rss_mb.v8_heap_at_end)
          .map(([name, h]) => `${name} ${h ? `${h.used_mb}/${h.total_mb}/${h.external_mb}` : 'unread'}`)
          .join(', ')}; embedded ClickHouse tracked ${r.rss_mb.clickhouse_tracked_at_end_mb ?? 'unread'} MiB`,
        `samples: ${r.samples.accepted} accepted, ${r.samples.stored} stored (${r.samples.missing} not stored after ${r.samples.drain_seconds}s of drain), ${r.samples.failures} failed requests, ${r.samples.skipped_batches} batches skipped${r.samples.first_failure ? ` (first failure: ${r.samples.first_failure})` : ''}`,
        `lag at end (Kafka records): ${Object.entries(r.lag_records_at_end)
          .map(([name, n]) => `${name} ${n}`)
          .join(', ')}`,
        `redis: used_memory ${r.redis.used_memory_mb} MiB (${r.redis.used_memory_before_mb} before the load), rss ${r.redis.used_memory_rss_mb} MiB, ${r.redis.dbsize} keys; baselines ${JSON.stringify(r.redis.baseline_keys)}`,
        `  per series state (${r.redis.sampled_keys} sampled): ${r.redis.baseline_strlen_avg} bytes of value, ${r.redis.baseline_memory_usage_avg} by MEMORY USAGE; used_memory grew ${r.redis.used_memory_growth_per_series} bytes per series`,
        `projection after ${p.samples} samples (${p.measured_series} states measured): detect memory ${p.bytes_per_series_learned} bytes/series learned live (V8 heap ${p.heap_bytes_per_series_learned}, the rest off-heap array buffers), ${p.bytes_per_series_restored} restored from Redis; Redis ${p.redis_bytes_per_series} bytes/series (value ${p.redis_value_bytes})`,
        `  for ${p.for_series.series} series: detect memory ${p.for_series.detect_memory_mb} MiB, Redis ${p.for_series.redis_mb} MiB`,
        ...(Object.keys(r.log_errors).length ? [`error lines in child logs: ${JSON.stringify(r.log_errors)}`] : []),
      ].join('\n'),
    );
    console.log(JSON.stringify(r, null, 2));
  }
} finally {
  await teardown.run();
}

/** `autopilot run <component>` on `port`, its output in logs/<component>.log, stopped at teardown. */
function start(env: NodeJS.ProcessEnv, component: string, port: number): ChildProcess {
  const out = openSync(path.join(LOG_DIR, `${component}.log`), 'a');
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  return spawnAutopilot(component, { ...env, PORT: String(port) }, teardown, { nodeArgs, stdio: ['ignore', out, out], stopGraceMs: 30_000 });
}

/**
 * Every live process under each root, named `<root>` and `<root>/<command>:<pid>`
 * for its descendants: the gateway's workers (`node`), and tsx's esbuild
 * service that every `autopilot` process starts to load TypeScript.
 */
function readTree(roots: Record<string, ChildProcess>): Map<string, RssReading> {
  const out = new Map<string, RssReading>();
  for (const [name, child] of Object.entries(roots)) {
    for (const pid of processTree(child.pid!)) {
      const r = readRss(pid);
      if (r) out.set(pid === child.pid ? name : `${name}/${commandName(pid)}:${pid}`, r);
    }
  }
  return out;
}

/** A batch every BATCH/RATE seconds for `seconds`, whatever the answers: a slow gateway shows as skipped batches. */
async function openLoop(url: string, body: () => string, seconds: number): Promise<LoadCounts> {
  const counts: LoadCounts = { accepted: 0, failures: 0, skippedBatches: 0, seconds: 0 };
  const headers = { authorization: 'Bearer bench-key', 'content-type': 'application/json' };
  const intervalMs = (BATCH / RATE) * 1000;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  for (let due = started; due < started + seconds * 1000; due += intervalMs) {
    if (inFlight.size >= MAX_IN_FLIGHT) counts.skippedBatches++;
    else {
      const sent = fetch(url, { method: 'POST', headers, body: body() }).then(
        async (r) => {
          if (r.status === 202) counts.accepted += BATCH;
          else {
            counts.failures++;
            counts.firstFailure ??= `${r.status} ${(await r.text()).slice(0, 200)}`;
          }
          await r.body?.cancel();
        },
        (err: Error) => {
          counts.failures++;
          counts.firstFailure ??= err.message;
        },
      );
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
    }
    await sleep(Math.max(0, due + intervalMs - performance.now()));
  }
  await Promise.all(inFlight);
  counts.seconds = (performance.now() - started) / 1000;
  return counts;
}

/**
 * Polls the stored row count until it reaches `accepted`, or `limitMs`
 * passes, or the sink has nothing left to read (lag 0) and the count has
 * stopped growing for DRAIN_STILL_MS: what is missing then was lost, not late.
 * A count standing still with lag left is a sink rejoining its group, say.
 */
async function drain(child: ChildProcess, processorsUrl: string, accepted: number, limitMs: number): Promise<{ stored: number; seconds: number }> {
  const started = performance.now();
  let stored = -1;
  let grewAt = started;
  for (;;) {
    const now = await retried(child, () => storedRows(processorsUrl));
    if (now > stored) grewAt = performance.now();
    stored = now;
    const elapsed = performance.now() - started;
    if (stored >= accepted || elapsed > limitMs) break;
    if (
      performance.now() - grewAt > DRAIN_STILL_MS &&
      sumOf(await retried(child, () => scrape(processorsUrl)), 'autopilot_processor_consumer_lag', { processor: 'sink' }) === 0
    )
      break;
    await sleep(2000);
  }
  return { stored, seconds: Number(((performance.now() - started) / 1000).toFixed(1)) };
}

/**
 * `call` to the processors, tried again after a failure (a kept-alive socket
 * the server closed meanwhile answers ECONNRESET): three attempts, unless the
 * process has exited, which is then the error, with its exit code or signal.
 */
async function retried<T>(child: ChildProcess, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`processors exited (${child.signalCode ?? `code ${child.exitCode}`}) (log: ${path.join(LOG_DIR, 'processors.log')})`);
      }
      if (attempt === 3) throw err;
      await sleep(1000);
    }
  }
}

/** Distinct samples the sink stored (FINAL: a replayed or retried copy is one sample, as the table keys them). */
async function storedRows(processorsUrl: string): Promise<number> {
  const r = await fetch(`${processorsUrl}/admin/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: `SELECT count() AS n FROM metric_points FINAL WHERE tenant = '${TENANT}'` }),
  });
  if (!r.ok) throw new Error(`/admin/sql answered ${r.status}: ${await r.text()}`);
  const { data } = (await r.json()) as { data: { n: string | number }[] };
  return Number(data[0]?.n ?? 0);
}

/** A component's V8 heap from its own /metrics (prom-client's default metrics): how much of its RSS is JavaScript. */
async function heapOf(url: string): Promise<{ used_mb: number; total_mb: number; external_mb: number } | undefined> {
  const text = await scrape(url).catch(() => undefined);
  if (text === undefined) return undefined;
  return {
    used_mb: mib(sumOf(text, 'autopilot_nodejs_heap_size_used_bytes')),
    total_mb: mib(sumOf(text, 'autopilot_nodejs_heap_size_total_bytes')),
    external_mb: mib(sumOf(text, 'autopilot_nodejs_external_memory_bytes')),
  };
}

/** What the embedded ClickHouse says it holds (caches, parts being written, queries), in MiB. */
async function clickhouseTrackedMb(processorsUrl: string): Promise<number> {
  const r = await fetch(`${processorsUrl}/admin/sql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query: "SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'" }),
  });
  if (!r.ok) throw new Error(`/admin/sql answered ${r.status}: ${await r.text()}`);
  const { data } = (await r.json()) as { data: { value: string | number }[] };
  return mib(Number(data[0]?.value ?? 0));
}

async function redisMemory(redis: Redis): Promise<{ usedMemory: number; usedMemoryRss: number; dbsize: number }> {
  const info = await redis.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return { usedMemory: field('used_memory'), usedMemoryRss: field('used_memory_rss'), dbsize: await redis.dbsize() };
}

/** Baseline keys per consumer group (`<group>:baseline:<series>`), and STRLEN / MEMORY USAGE averaged over the first KEY_SAMPLE. */
async function baselineKeys(redis: Redis) {
  const keys: Record<string, number> = {};
  const sample: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', '*:baseline:*', 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      const group = key.slice(0, key.indexOf(':baseline:'));
      keys[group] = (keys[group] ?? 0) + 1;
      if (sample.length < KEY_SAMPLE) sample.push(key);
    }
  } while (cursor !== '0');
  const strlens = await Promise.all(sample.map((k) => redis.strlen(k)));
  const usages = await Promise.all(sample.map((k) => redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0') as Promise<number>));
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  return { keys, sampled: sample.length, strlenAvg: avg(strlens), memoryUsageAvg: avg(usages.map(Number)) };
}

/**
 * Bytes per series of detect's state: `n` states fed through observe() as
 * detect feeds them, V8 heap and off-heap array buffers (a Float64Array of
 * more than 64 bytes keeps its numbers outside the heap) measured after a
 * full GC before and after.
 * Twice: learned live, and restored from Redis's bytes (decodeState), as
 * after a restart or rebalance.
 */
function projectBaselineMemory(n: number, cfg: DetectorConfig) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // V8 heap and the array buffers outside it (a state's Float64Array keeps its numbers there), after a full GC.
  const afterGc = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { heap: m.heapUsed, all: m.heapUsed + m.arrayBuffers };
  };
  const feed = (state: DetectorState, s: number, k: number) => observe(state, k * 15_000, fleetSample(s, 0).value, cfg);

  let before = afterGc();
  let states: DetectorState[] | undefined = Array.from({ length: n }, emptyState);
  states.forEach((state, s) => {
    for (let k = 0; k < PROJECTION_SAMPLES; k++) feed(state, s, k);
  });
  const learnedAt = afterGc();
  const learned = (learnedAt.all - before.all) / n;
  const learnedHeap = (learnedAt.heap - before.heap) / n;

  const encoded = states.map(encodeState);
  states = undefined;
  before = afterGc();
  const restored = encoded.map(decodeState);
  for (const [s, state] of restored.entries()) feed(state, s, PROJECTION_SAMPLES);
  const restoredBytes = (afterGc().all - before.all) / n;
  // Read after the measurement, so the restored states are still reachable during it.
  if (restored.some((s) => s[0] === 0)) throw new Error('a state came back from its bytes empty');

  return {
    samples: PROJECTION_SAMPLES,
    measured_series: n,
    /** V8 heap plus off-heap array buffers. */
    bytes_per_series_learned: Math.round(learned),
    bytes_per_series_restored: Math.round(restoredBytes),
    heap_bytes_per_series_learned: Math.round(learnedHeap),
    /** encodeState's bytes: fixed, whatever the history. */
    redis_value_bytes: encoded.reduce((sum, b) => sum + b.length, 0) / n,
  };
}

function pad(x: number, width = 6): string {
  return String(x).padStart(width);
}
function mib(bytes: number): number {
  return Math.round(bytes / 2 ** 20);
}
function kb(bytes: number): string {
  return (bytes / 1024).toFixed(1);
}
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
