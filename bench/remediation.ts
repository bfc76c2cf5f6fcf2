/**
 * Remediation benchmark: from an alert arriving at the gateway (Alertmanager
 * webhook, answered 202) to the proposal it causes stored in ClickHouse, and
 * to the action of an `auto` policy executed (the request reaching the
 * action's endpoint), on one stack:
 *
 *   npm run bench:remediation [-- --json] [--count 60] [--rate 2]
 *
 * Two policies on the same alerts: `approve` (the proposal waits; stored is
 * the figure) and `auto` (a low-risk webhook action, run by the executor;
 * executed is the figure). Each alert is for a service of its own, so the
 * rate guard never blocks. Stored is the first poll (every --poll-ms) of
 * /v1/proposals that sees the row; executed is when the stand-in endpoint
 * in this process received the call. Aims (issue 16): stored p99 < 5 s (the
 * brief's bar is 30 s for the whole response).
 *
 * It brings up its own fresh local stack (ports 3939x, data in
 * .data/bench-remediation, wiped first, stopped after) and runs the gateway,
 * sink, remediate and execute in one child process (the embedded ClickHouse
 * is one process's), as `autopilot run` runs components. Its log is
 * .data/bench-remediation/logs/autopilot.log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startRecorder } from '../test/helpers/recorder.ts';
import { percentile } from './load.ts';
import { benchStackUp, REPO, stopChild, waitReady } from './stack.ts';
import { Teardown } from './teardown.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    count: { type: 'string', default: '60' },
    rate: { type: 'string', default: '2' },
    'poll-ms': { type: 'string', default: '50' },
  },
});
const say = (msg: string) => !values.json && process.stderr.write(`${msg}\n`);
const count = Number(values.count);
const rate = Number(values.rate);
const pollMs = Number(values['poll-ms']);
const DATA_DIR = path.join(REPO, '.data', 'bench-remediation');
const LOG_DIR = path.join(DATA_DIR, 'logs');
const PORTS = { kafka: 39392, kafkaController: 39393, registry: 38381, redis: 36679 };
const PORT = 38390;
const URL = `http://localhost:${PORT}`;
const KEY = 'bench-key';

const teardown = new Teardown().stopOnSignals();
try {
  say(`bench: starting a fresh local stack in ${path.relative(REPO, DATA_DIR)}…`);
  const { env } = await benchStackUp(DATA_DIR, PORTS, { teardown, fresh: true, say });
  mkdirSync(LOG_DIR, { recursive: true });
  const endpoint = await startRecorder();
  teardown.defer('the action endpoint', () => endpoint.close());
  const received = new Map<string, number>();
  const seen = endpoint.requests;
  const out = openSync(path.join(LOG_DIR, 'autopilot.log'), 'a');
  const child = spawnAutopilot(
    { ...env, PORT: String(PORT), NOTIFY_ALLOW_LOOPBACK: 'true', REMEDIATE_REFRESH_SECONDS: '0.5', EXECUTE_REFRESH_SECONDS: '0.5' },
    out,
  );
  teardown.defer('autopilot', () => stopChild(child, 30_000));
  say('bench: starting gateway, sink, remediate and execute…');
  await waitReady(`${URL}/health/ready`, child, 'autopilot');

  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${URL}${p}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const hook = await api('POST', '/v1/actions', {
    name: 'restart hook',
    kind: 'webhook',
    risk: 'low',
    url: `${endpoint.url}/restart`,
    body: { alert: '{{service}}' },
  });
  await api('POST', '/v1/remediation-policies', {
    name: 'page a human',
    on: 'alert',
    match: { alert_name: 'BenchApprove' },
    action_id: hook.id,
    mode: 'approve',
  });
  await api('POST', '/v1/remediation-policies', {
    name: 'restart at once',
    on: 'alert',
    match: { alert_name: 'BenchAuto' },
    action_id: String(hook.id),
    mode: 'auto',
  });
  await sleep(1500); // the processors read policies every 0.5 s

  const toStored: number[] = [];
  const toExecuted: number[] = [];
  const pending: Promise<void>[] = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    await sleep(Math.max(0, started + (i * 1000) / rate - Date.now()));
    const service = `svc-${i}`;
    const alerts = ['BenchApprove', 'BenchAuto'].map((name) => ({
      status: 'firing',
      labels: { alertname: name, service, severity: 'critical' },
      startsAt: new Date().toISOString(),
      fingerprint: `${name}-${i}`,
    }));
    const sent = Date.now();
    await api('POST', '/v1/alertmanager', { version: '4', groupKey: `g${i}`, status: 'firing', receiver: 'autopilot', alerts });
    pending.push(
      (async () => {
        const deadline = sent + 60_000;
        let stored = false;
        while (Date.now() < deadline && (!stored || !received.has(service))) {
          if (!stored) {
            const items = (await api('GET', `/v1/proposals?service=${service}`)).items as { subject_id: string }[];
            if (items.some((x) => x.subject_id.startsWith('BenchApprove'))) {
              stored = true;
              toStored.push(Date.now() - sent);
            }
          }
          for (const r of seen) {
            const body = JSON.parse(r.body) as { service?: string };
            if (body.service && !received.has(body.service)) received.set(body.service, Date.now());
          }
          await sleep(pollMs);
        }
        const at = received.get(service);
        if (at) toExecuted.push(at - sent);
      })(),
    );
  }
  await Promise.all(pending);
  toStored.sort((a, b) => a - b);
  toExecuted.sort((a, b) => a - b);
  const f = (xs: number[]) => ({ p50_ms: percentile(xs, 0.5), p95_ms: percentile(xs, 0.95), p99_ms: percentile(xs, 0.99), max_ms: xs.at(-1) ?? NaN });
  const figures = {
    alerts: count,
    rate_per_s: rate,
    stored: { n: toStored.length, ...f(toStored) },
    executed: { n: toExecuted.length, ...f(toExecuted) },
    calls: seen.length,
  };
  if (values.json) console.log(JSON.stringify(figures));
  else {
    say(`\n${count} alerts at ${rate}/s, each for a service of its own:`);
    say(
      `  alert → proposal stored (approve policy): p50 ${figures.stored.p50_ms} ms, p95 ${figures.stored.p95_ms} ms, p99 ${figures.stored.p99_ms} ms (${toStored.length}/${count})`,
    );
    say(
      `  alert → action executed (auto policy):   p50 ${figures.executed.p50_ms} ms, p95 ${figures.executed.p95_ms} ms, p99 ${figures.executed.p99_ms} ms (${toExecuted.length}/${count})`,
    );
    say(`  calls received by the endpoint: ${seen.length} (should be ${count}: one per auto proposal)`);
  }
  if (toStored.length < count || toExecuted.length < count || seen.length !== count) process.exitCode = 1;
} finally {
  await teardown.run();
}

/** Gateway, sink, remediate and execute in one child process, as `autopilot run` runs components. */
function spawnAutopilot(env: NodeJS.ProcessEnv, out: number): ChildProcess {
  const code = [
    `import { runComponents } from ${JSON.stringify(path.join(REPO, 'cli/run.ts'))};`,
    `import { loadConfig } from ${JSON.stringify(path.join(REPO, 'lib/config.ts'))};`,
    `await runComponents(['gateway', 'sink', 'remediate', 'execute'], loadConfig());`,
  ].join('\n');
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, env, stdio: ['ignore', out, out] });
}
