import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Hono } from 'hono';
import type { Gauge, Registry } from 'prom-client';
import { checkReadiness, type HealthCheck } from '../lib/health.ts';

/**
 * GET /health: is this process up and are its dependencies answering, with
 * the version running. GET /health/detailed: each dependency with how long
 * it took to answer, the lag of the processors this process runs, memory and
 * event-loop delay.
 *
 * Both answer 200 whenever the process can answer at all, with `status`
 * 'ok' or 'degraded' (a dependency failed): they describe, where
 * /health/ready decides (503) whether to send traffic here.
 *
 * No key, on purpose, for /health/detailed too: everything it shows is
 * already public without one (the checks and their errors at /health/ready;
 * lag, memory and event-loop delay at /metrics), and a key would keep out
 * the probes and scrapers that read those. It names no tenant.
 */
const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const CHECK_TIMEOUT_MS = 2000;

/** The processors' gauges (processors/runtime/telemetry.ts), present when this process runs processors. */
const LAG_GAUGE = 'autopilot_processor_consumer_lag';
const STALLED_GAUGE = 'autopilot_processor_stalled';

export function healthRoutes(opts: { registry: Registry; checks: HealthCheck[] }): Hono {
  const app = new Hono();
  const loop = eventLoopDelay();

  app.get('/health', async (c) => {
    const r = await checkReadiness(opts.checks, CHECK_TIMEOUT_MS);
    return c.json({ status: r.ready ? 'ok' : 'degraded', version: VERSION, uptime_s: Math.round(process.uptime()) });
  });

  app.get('/health/detailed', async (c) => {
    // One check at a time through checkReadiness (its deadline and error text), side by side, each timed.
    const checks = await Promise.all(
      opts.checks.map(async (check) => {
        const started = performance.now();
        const r = await checkReadiness([check], CHECK_TIMEOUT_MS);
        return { name: check.name, ...r.checks[check.name]!, latency_ms: round(performance.now() - started) };
      }),
    );
    const memory = process.memoryUsage();
    return c.json({
      status: checks.every((ch) => ch.ok) ? 'ok' : 'degraded',
      version: VERSION,
      uptime_s: Math.round(process.uptime()),
      checks,
      processors: await processorLag(opts.registry),
      memory: {
        rss_bytes: memory.rss,
        heap_used_bytes: memory.heapUsed,
        heap_total_bytes: memory.heapTotal,
        heap_limit_bytes: getHeapStatistics().heap_size_limit,
        external_bytes: memory.external,
        array_buffers_bytes: memory.arrayBuffers,
      },
      event_loop_delay_ms: loop.last(),
    });
  });

  return app;
}

type LagRow = { processor: string; topic: string; partition: number; lag: number; stalled: boolean };

/**
 * Records behind per processor and partition, as the processors last read
 * them from Kafka (every few seconds), from this process's registry: null
 * when it runs no processor (a gateway alone), for the gauges exist only
 * where processors started.
 */
async function processorLag(registry: Registry): Promise<{ total_lag: number; partitions: LagRow[] } | null> {
  const lag = registry.getSingleMetric(LAG_GAUGE) as Gauge | undefined;
  if (!lag) return null;
  const stalled = registry.getSingleMetric(STALLED_GAUGE) as Gauge | undefined;
  const key = (l: Record<string, unknown>) => `${l.processor}\u0000${l.topic}\u0000${l.partition}`;
  const stalledNow = new Set(((await stalled?.get())?.values ?? []).filter((v) => v.value > 0).map((v) => key(v.labels)));
  const partitions = (await lag.get()).values
    .map((v) => ({
      processor: String(v.labels.processor),
      topic: String(v.labels.topic),
      partition: Number(v.labels.partition),
      lag: v.value,
      stalled: stalledNow.has(key(v.labels)),
    }))
    .sort((a, b) => a.processor.localeCompare(b.processor) || a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return { total_lag: partitions.reduce((s, p) => s + p.lag, 0), partitions };
}

/**
 * Event-loop delay over the last complete 10 s (a histogram sampled every
 * 20 ms, read and reset every 10 s), so the figure is recent whoever asks and
 * however often (prom-client's own gauges reset at every scrape). One per
 * process, started on first use; its timer never keeps the process alive.
 */
const LOOP_WINDOW_MS = 10_000;
type LoopDelay = { window_s: number; mean: number; p50: number; p99: number; max: number } | null;
let loopMonitor: { last(): LoopDelay } | undefined;

function eventLoopDelay(): { last(): LoopDelay } {
  if (loopMonitor) return loopMonitor;
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  let since = performance.now();
  let last: LoopDelay = null;
  const ms = (ns: number) => round(ns / 1e6);
  const read = (): LoopDelay =>
    histogram.count === 0
      ? null
      : {
          window_s: round((performance.now() - since) / 1000),
          mean: ms(histogram.mean),
          p50: ms(histogram.percentile(50)),
          p99: ms(histogram.percentile(99)),
          max: ms(histogram.max),
        };
  setInterval(() => {
    last = read();
    histogram.reset();
    since = performance.now();
  }, LOOP_WINDOW_MS).unref();
  // Until the first 10 s are complete, what there is so far.
  loopMonitor = { last: () => last ?? read() };
  return loopMonitor;
}

const round = (x: number) => Math.round(x * 100) / 100;
