/**
 * End-to-end latency of the anomaly path under steady load: from the
 * gateway's 202 for a point far off its series' baseline to the moment its
 * row can be read from the `anomalies` table. The point travels gateway →
 * autopilot.metrics → detect → autopilot.anomalies → sink → ClickHouse, so the
 * figure includes both consumers' batching.
 *
 * Steady load is open-loop (a batch every batch/rate seconds whether or not
 * the last one was answered, as a fleet sends), so a slow pipeline shows as
 * latency instead of slowing the sender down. Probe series have their own
 * service and a flat baseline: their warm-up samples never alarm, and each
 * probe's spike is the only anomaly its series has.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { SchemaCatalog } from '../schemas/catalog.ts';
import { TOPICS } from '../schemas/topics.ts';
import { fleetSample, type FleetSample } from './fleet.ts';
import { percentile } from './load.ts';

const PROBE_SERVICE = 'bench-probe';
const WARM_SAMPLES = 20; // ≥ the detector's minSamples (10), with room to spare
const WARM_CYCLE = [98, 99, 100, 101, 102]; // median 100, MAD 1: at most 1.35 robust deviations off
const SPIKE = 1000;
/** Requests awaiting an answer beyond this are not sent: the gateway is behind, and the shortfall shows in the rate. */
const MAX_IN_FLIGHT = 32;
/** How long probes still unanswered after the load may take to appear before they count as missed. */
const GRACE_MS = 20_000;

export interface LatencyOptions {
  gatewayUrl: string;
  apiKey: string;
  /** The process holding the embedded ClickHouse, and its admin key for /admin/sql. */
  sqlUrl: string;
  adminKey: string;
  rate: number;
  batch: number;
  seconds: number;
  warmupSeconds: number;
  series: number;
  probeEveryMs: number;
  pollMs: number;
  /** Where detect's anomaly records are read as they come, to split the latency into detect's part and the sink's. */
  kafka: Kafka;
  registryUrl: string;
  say: (msg: string) => void;
}

export interface LatencyResult {
  targetRate: number;
  /** Points acknowledged (202) per second while measuring. */
  rate: number;
  seconds: number;
  failures: number;
  skippedBatches: number;
  firstFailure?: string;
  probes: number;
  missed: number;
  latenciesMs: number[]; // sorted
  p50: number;
  p99: number;
  max: number;
  /** From the 202 to the anomaly record on its topic (gateway, Kafka and detect; the rest is the sink's). */
  toTopic: { p50: number; p99: number };
}

interface LoadCounts {
  acknowledged: number;
  failures: number;
  skippedBatches: number;
  firstFailure?: string;
  seconds: number;
}

export async function anomalyLatency(opts: LatencyOptions): Promise<LatencyResult> {
  const probeSeries = Math.ceil((opts.seconds * 1000) / opts.probeEveryMs) + 10;
  const headers = { authorization: `Bearer ${opts.apiKey}`, 'content-type': 'application/json' };
  const ingest = (points: FleetSample[]) => fetch(`${opts.gatewayUrl}/v1/metrics`, { method: 'POST', headers, body: JSON.stringify(points) });
  const probeSample = (p: number, value: number, timestamp = Date.now()): FleetSample => ({
    timestamp,
    metric_name: 'bench_probe',
    value,
    labels: { instance: `probe-${p}`, service: PROBE_SERVICE },
  });

  // Every probe series' baseline in one request: in order within a series, and known acknowledged before any spike.
  // A second apart, ending a second ago: detect judges a series' samples by timestamp and skips one at or before
  // the last it judged (a sender's retry), so baseline samples stamped in the same millisecond would count once
  // and the series never reach the detector's minimum.
  const warmFrom = Date.now() - (WARM_SAMPLES + 1) * 1000;
  const warm = Array.from({ length: WARM_SAMPLES }, (_, k) =>
    Array.from({ length: probeSeries }, (_, p) => probeSample(p, WARM_CYCLE[k % WARM_CYCLE.length]!, warmFrom + k * 1000)),
  ).flat();
  const res = await ingest(warm);
  if (res.status !== 202) throw new Error(`warming the probe series: ${res.status} ${await res.text()}`);

  let cursor = 0;
  const nextBatch = (): FleetSample[] => Array.from({ length: opts.batch }, () => fleetSample(cursor++ % opts.series, Date.now()));
  const ackedAt = new Map<number, number>();
  const seenAt = new Map<number, number>();
  const onTopicAt = new Map<number, number>();
  const watcher = await watchAnomalyRecords(opts, (probe, at) => {
    if (!onTopicAt.has(probe)) onTopicAt.set(probe, at);
  });

  /** Sends a batch every batch/rate seconds for `seconds`; with `probe`, one spike on the next probe series every probeEveryMs. */
  const steady = async (seconds: number, probe: boolean): Promise<LoadCounts> => {
    const counts: LoadCounts = { acknowledged: 0, failures: 0, skippedBatches: 0, seconds: 0 };
    const intervalMs = (opts.batch / opts.rate) * 1000;
    const inFlight = new Set<Promise<void>>();
    const started = performance.now();
    let due = started;
    let nextProbeAt = started;
    let probes = 0;
    while (due < started + seconds * 1000) {
      if (inFlight.size >= MAX_IN_FLIGHT) counts.skippedBatches++;
      else {
        const points = nextBatch();
        const p = probe && due >= nextProbeAt && probes < probeSeries ? probes++ : undefined;
        if (p !== undefined) {
          points.push(probeSample(p, SPIKE));
          nextProbeAt += opts.probeEveryMs;
        }
        const sent = ingest(points).then(
          async (r) => {
            const at = performance.now();
            if (r.status === 202) {
              counts.acknowledged += points.length;
              if (p !== undefined) ackedAt.set(p, at);
            } else {
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
      due += intervalMs;
      await sleep(Math.max(0, due - performance.now()));
    }
    await Promise.all(inFlight);
    counts.seconds = (performance.now() - started) / 1000;
    return counts;
  };

  const query = `SELECT DISTINCT labels['instance'] AS probe FROM anomalies WHERE tenant = 'bench' AND service = '${PROBE_SERVICE}' AND current_value >= ${SPIKE / 2}`;
  const poll = async () => {
    const r = await fetch(`${opts.sqlUrl}/admin/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    // The answer's arrival, not the request's start: an upper bound, off by at most one poll.
    const at = performance.now();
    if (!r.ok) throw new Error(`/admin/sql answered ${r.status}: ${await r.text()}`);
    const { data } = (await r.json()) as { data: { probe: string }[] };
    for (const row of data) {
      const p = Number(row.probe.slice('probe-'.length));
      if (!seenAt.has(p)) seenAt.set(p, at);
    }
  };

  opts.say(`bench: e2e warm-up ${opts.warmupSeconds}s at ${opts.rate} points/s…`);
  await steady(opts.warmupSeconds, false);
  opts.say(`bench: e2e measuring ${opts.seconds}s at ${opts.rate} points/s, a probe every ${opts.probeEveryMs} ms…`);

  let loadDone = false;
  let pollError: Error | undefined;
  const poller = (async () => {
    let graceUntil = Infinity;
    while (performance.now() < graceUntil) {
      const started = performance.now();
      await poll().catch((err: Error) => (pollError ??= err));
      if (loadDone) {
        graceUntil = Math.min(graceUntil, started + GRACE_MS);
        if ([...ackedAt.keys()].every((p) => seenAt.has(p))) break;
      }
      await sleep(Math.max(0, opts.pollMs - (performance.now() - started)));
    }
  })();
  const load = await steady(opts.seconds, true);
  loadDone = true;
  await poller;
  await watcher.disconnect();
  if (pollError && seenAt.size === 0) throw pollError;

  const since = (at: Map<number, number>) => [...ackedAt].flatMap(([p, acked]) => (at.has(p) ? [at.get(p)! - acked] : [])).sort((a, b) => a - b);
  const latenciesMs = since(seenAt);
  const toTopic = since(onTopicAt);
  return {
    targetRate: opts.rate,
    rate: Math.round(load.acknowledged / load.seconds),
    seconds: Number(load.seconds.toFixed(1)),
    failures: load.failures,
    skippedBatches: load.skippedBatches,
    ...(load.firstFailure ? { firstFailure: load.firstFailure } : {}),
    probes: ackedAt.size,
    missed: ackedAt.size - latenciesMs.length,
    latenciesMs,
    p50: percentile(latenciesMs, 0.5),
    p99: percentile(latenciesMs, 0.99),
    max: latenciesMs[latenciesMs.length - 1] ?? NaN,
    toTopic: { p50: percentile(toTopic, 0.5), p99: percentile(toTopic, 0.99) },
  };
}

/** Calls `seen` with each probe whose spike comes by on autopilot.anomalies, and when (read at most ~50 ms after it was written). */
async function watchAnomalyRecords(opts: LatencyOptions, seen: (probe: number, at: number) => void) {
  const catalog = SchemaCatalog.connect(opts.registryUrl);
  const consumer = opts.kafka.consumer({ groupId: `bench-anomaly-watch-${Date.now()}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.anomalies.topic, fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const at = performance.now();
      if (!message.value) return;
      const a = (await catalog.decode(message.value)) as { service: string; current_value: number; labels: Record<string, string> };
      if (a.service === PROBE_SERVICE && a.current_value >= SPIKE / 2) seen(Number(a.labels.instance!.slice('probe-'.length)), at);
    },
  });
  return consumer;
}
