/**
 * Ingest benchmark: points/s accepted by POST /v1/metrics in batches of 1000
 * (every 202 means Kafka acknowledged with acks=all), request latency p50/p99,
 * the CPU the gateway and Kafka spent per million points (the steadier figure
 * on a shared machine: points/s falls with everyone else's load, this much
 * less), and the gateway's resident memory. With `--logs`, the same for log
 * lines through POST /v1/logs: ~90-character lines over `--streams` streams
 * (20 services, a pod label each), a fiftieth of them errors. With `--otlp`,
 * the same points as OTLP/HTTP protobuf gauges (POST /otlp/v1/metrics, the
 * points of a batch under one resource per service, as an SDK sends them).
 * With `--spans`, OTLP/HTTP protobuf traces (POST /otlp/v1/traces): batches
 * of `--batch` spans, traces of four spans over 50 services.
 *
 *   npm run bench:ingest [-- --json] [--seconds 20] [--concurrency 8] [--batch 1000] [--series 10000]
 *   npm run bench:ingest -- --logs [--streams 2000] …
 *   npm run bench:ingest -- --otlp …
 *   npm run bench:ingest -- --spans …
 *
 * It brings up its own local stack (ports 3909x, data in .data/bench) and runs
 * the gateway as a child process (`autopilot run gateway`), so the load
 * generator's CPU is not counted as the gateway's memory, and the gateway is
 * measured as it runs in production. It stops both when it ends, on Ctrl-C
 * too; services it found running on those ports stay up.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stackStatus } from '../compose/local/stack.ts';
import { closedLoop, percentile } from './load.ts';
import { otlpMetricsBody, otlpTracesBody } from './otlp-bodies.ts';
import { benchStackUp, cpuSeconds, REPO, spawnAutopilot, waitReady } from './stack.ts';
import { Teardown } from './teardown.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    batch: { type: 'string', default: '1000' },
    series: { type: 'string', default: '10000' },
    logs: { type: 'boolean', default: false },
    otlp: { type: 'boolean', default: false },
    spans: { type: 'boolean', default: false },
    streams: { type: 'string', default: '2000' },
  },
});
/** What is sent: samples (the default), or log lines. */
const kind = values.logs ? 'lines' : values.spans ? 'spans' : 'points';
const say = (msg: string) => !values.json && process.stderr.write(`${msg}\n`);

const teardown = new Teardown().stopOnSignals();
try {
  say('bench: starting the local stack…');
  const { cfg, env } = await benchStackUp(
    path.join(REPO, '.data', 'bench'),
    { kafka: 39092, kafkaController: 39093, registry: 38081, redis: 36379 },
    { teardown, say },
  );
  env.PORT = '38080';

  // BENCH_NODE_ARGS passes flags to the gateway's node, e.g. --cpu-prof to profile it under load.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const gateway = spawnAutopilot('gateway', env, teardown, { nodeArgs });
  const base = `http://localhost:${env.PORT}`;
  await waitReady(`${base}/health/ready`, gateway, 'gateway');
  const batch = Number(values.batch);
  const series = Number(values.series);
  const streams = Number(values.streams);
  let n = 0;
  const point = () => {
    const s = n++ % series;
    return {
      timestamp: Date.now(),
      metric_name: 'http_request_duration_ms',
      value: Math.round(Math.random() * 100_000) / 100,
      labels: { service: `svc-${s % 50}`, environment: 'prod', instance: `i-${s}` },
    };
  };
  const line = () => {
    const i = n++;
    const s = i % streams;
    return {
      timestamp: Date.now(),
      level: i % 50 ? 'info' : 'error',
      message: `GET /api/v1/items/${i % 977} 200 ${(i * 7) % 300}ms user=${(i * 13) % 5000} trace=${(i * 2654435761) % 4294967296}`,
      service: `svc-${s % 20}`,
      labels: { environment: 'prod', pod: `pod-${s}` },
    };
  };
  // Distinct bodies with fresh timestamps, built ahead so the generator spends its CPU on sending.
  const item: () => object = values.logs ? line : point;
  const bodies = Array.from({ length: 64 }, (_, k) =>
    values.spans
      ? otlpTracesBody(batch, 50, k)
      : values.otlp
        ? otlpMetricsBody(Array.from({ length: batch }, point))
        : Buffer.from(JSON.stringify(Array.from({ length: batch }, item))),
  );
  const otlp = values.otlp || values.spans;
  let next = 0;
  const load = (seconds: number) =>
    closedLoop({
      url: `${base}${values.logs ? '/v1/logs' : values.spans ? '/otlp/v1/traces' : values.otlp ? '/otlp/v1/metrics' : '/v1/metrics'}`,
      headers: { authorization: 'Bearer bench-key', 'content-type': otlp ? 'application/x-protobuf' : 'application/json' },
      bodies: () => bodies[next++ % bodies.length]!,
      concurrency: Number(values.concurrency),
      seconds,
    });

  say(`bench: warm-up ${values.warmup}s…`);
  await load(Number(values.warmup));
  say(`bench: measuring ${values.seconds}s, ${values.concurrency} connections, batches of ${batch} ${kind}…`);
  // The gateway may be a cluster (GATEWAY_WORKERS): its CPU and memory are the primary's plus every worker's.
  const pids = [gateway.pid!, ...readFileSync(`/proc/${gateway.pid}/task/${gateway.pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)];
  const kafkaPid = (await stackStatus(cfg)).find((s) => s.name === 'kafka')?.pid;
  const cpu = () => ({ gateway: pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0), kafka: kafkaPid ? cpuSeconds(kafkaPid) : 0 });
  const before = cpu();
  const r = await load(Number(values.seconds));
  const after = cpu();
  const sorted = r.latenciesMs.sort((a, b) => a - b);
  const ok = r.requests - r.failures;
  const cpuS = { gateway: Number((after.gateway - before.gateway).toFixed(1)), kafka: Number((after.kafka - before.kafka).toFixed(1)) };
  const statuses = pids.map((pid) => readFileSync(`/proc/${pid}/status`, 'utf8'));
  const kb = (field: string) => statuses.reduce((sum, status) => sum + Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN), 0);
  const result = {
    bench: values.logs ? 'ingest-logs' : values.spans ? 'ingest-otlp-spans' : values.otlp ? 'ingest-otlp' : 'ingest',
    [`${kind}_per_s`]: Math.round((ok * batch) / r.seconds),
    requests_per_s: Math.round(ok / r.seconds),
    batch,
    concurrency: Number(values.concurrency),
    seconds: Number(r.seconds.toFixed(1)),
    failures: r.failures,
    latency_ms: { p50: Number(percentile(sorted, 0.5).toFixed(1)), p99: Number(percentile(sorted, 0.99).toFixed(1)) },
    cpu_s: cpuS,
    [`cpu_s_per_million_${kind}`]: Number(((cpuS.gateway + cpuS.kafka) / ((ok * batch) / 1e6)).toFixed(2)),
    gateway_processes: pids.length,
    gateway_rss_mb: Math.round(kb('VmRSS') / 1024),
    gateway_peak_rss_mb: Math.round(kb('VmHWM') / 1024), // sum of each process's own peak
    ...(r.firstFailure ? { first_failure: r.firstFailure } : {}),
  };
  if (values.json) console.log(JSON.stringify(result));
  else console.log(result);
} finally {
  await teardown.run();
}
