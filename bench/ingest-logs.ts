/**
 * Logs ingest benchmark: lines/s accepted by POST /v1/logs in batches of
 * 1000 (every 202 means Kafka acknowledged with acks=all), request latency
 * p50/p99 and the CPU the gateway and Kafka spent per million lines: the
 * logs twin of bench/ingest.ts, built the same way (its own local stack and
 * a gateway child process, both stopped at the end).
 *
 *   npm run bench:ingest-logs [-- --json] [--seconds 20] [--concurrency 8] [--batch 1000] [--streams 2000]
 *
 * Lines are about 90 characters, over `--streams` streams (20 services,
 * a pod label each), a fiftieth of them errors.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stackStatus } from '../compose/local/stack.ts';
import { closedLoop, percentile } from './load.ts';
import { benchStackUp, cpuSeconds, REPO, spawnAutopilot, waitReady } from './stack.ts';
import { Teardown } from './teardown.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    batch: { type: 'string', default: '1000' },
    streams: { type: 'string', default: '2000' },
  },
});
const say = (msg: string) => !values.json && process.stderr.write(`${msg}\n`);

const teardown = new Teardown().stopOnSignals();
try {
  say('bench: starting the local stack…');
  const { cfg, env } = await benchStackUp(
    path.join(REPO, '.data', 'bench-logs'),
    { kafka: 39192, kafkaController: 39193, registry: 38181, redis: 36479 },
    { teardown, say },
  );
  env.PORT = '38180';

  // BENCH_NODE_ARGS passes flags to the gateway's node, e.g. --cpu-prof to profile it under load.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const gateway = spawnAutopilot('gateway', env, teardown, { nodeArgs });
  const base = `http://localhost:${env.PORT}`;
  await waitReady(`${base}/health/ready`, gateway, 'gateway');
  const batch = Number(values.batch);
  const streams = Number(values.streams);
  let n = 0;
  // Distinct bodies with fresh timestamps, built ahead so the generator spends its CPU on sending.
  const bodies = Array.from({ length: 64 }, () =>
    Buffer.from(
      JSON.stringify(
        Array.from({ length: batch }, () => {
          const i = n++;
          const s = i % streams;
          return {
            timestamp: Date.now(),
            level: i % 50 ? 'info' : 'error',
            message: `GET /api/v1/items/${i % 977} 200 ${(i * 7) % 300}ms user=${(i * 13) % 5000} trace=${(i * 2654435761) % 4294967296}`,
            service: `svc-${s % 20}`,
            labels: { environment: 'prod', pod: `pod-${s}` },
          };
        }),
      ),
    ),
  );
  let next = 0;
  const load = (seconds: number) =>
    closedLoop({
      url: `${base}/v1/logs`,
      headers: { authorization: 'Bearer bench-key', 'content-type': 'application/json' },
      bodies: () => bodies[next++ % bodies.length]!,
      concurrency: Number(values.concurrency),
      seconds,
    });

  say(`bench: warm-up ${values.warmup}s…`);
  await load(Number(values.warmup));
  say(`bench: measuring ${values.seconds}s, ${values.concurrency} connections, batches of ${batch} lines…`);
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
    bench: 'ingest-logs',
    lines_per_s: Math.round((ok * batch) / r.seconds),
    requests_per_s: Math.round(ok / r.seconds),
    batch,
    concurrency: Number(values.concurrency),
    seconds: Number(r.seconds.toFixed(1)),
    failures: r.failures,
    latency_ms: { p50: Number(percentile(sorted, 0.5).toFixed(1)), p99: Number(percentile(sorted, 0.99).toFixed(1)) },
    cpu_s: cpuS,
    cpu_s_per_million_lines: Number(((cpuS.gateway + cpuS.kafka) / ((ok * batch) / 1e6)).toFixed(2)),
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
