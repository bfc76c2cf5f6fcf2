/**
 * Analysis benchmark: time from an incident opened (its record acknowledged
 * by Kafka on autopilot.incidents) to its root-cause analysis stored (first
 * seen in the `analyses` table), and to the analysis finished (the row's own
 * created_at), in two modes on one stack:
 *
 * - instant: the Ollama stand-in answers at once with a valid answer, so the
 *   figure is the pipeline's own cost (consume, context query, publish, sink);
 * - timeout: the stand-in answers only after --slow-ms, past
 *   ANALYZE_TIMEOUT_MS (--timeout-ms) with ANALYZE_RETRIES=0, so the figure is
 *   the fallback latency: one model timeout plus the rules.
 *
 *   npm run bench:analysis [-- --json] [--count 100] [--rate 2] [--timeout-ms 2000] [--slow-ms 10000]
 *
 * Incidents are published straight to autopilot.incidents with the
 * pipeline's own publisher (no correlate), one distinct incident per record,
 * open-loop at --rate per second for --count per mode, after --warmup ones
 * that are not measured. Each mode's source counts (llm / rules with reason
 * timeout) and model calls are checked: a run where they are not what the
 * mode says is reported as invalid (stderr, exit code 1), not as a figure.
 *
 * Stored is the first poll of ClickHouse (every --poll-ms) that sees the
 * row: an upper bound, late by at most one poll and its query. Finished is
 * created_at, stamped by the analyst when the analysis was done, before
 * publishing; both are on this machine's clock.
 *
 * Under load the timeout mode is more than one timeout: the analyst works a
 * partition's batch at a time (ANALYZE_CONCURRENCY incidents at once), so an
 * incident arriving while its partition waits on the model waits for that
 * batch first. A low --rate (e.g. 0.2) isolates one timeout plus the rules.
 *
 * It brings up its own fresh local stack (ports 3929x, data in
 * .data/bench-analysis, wiped first, stopped after) and runs `sink` and
 * `analyze` in one child process, as bench/processors.ts runs the pipeline
 * for anomaly-latency.ts: the load generator, the stand-in and the poller
 * then cost the pipeline no CPU. One process for both, because the embedded
 * ClickHouse belongs to a single process and both processors need it (as
 * `autopilot run processors` does, without the idle others). Its log is
 * .data/bench-analysis/logs/processors.log.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createPublisher } from '../platform/publisher.ts';
import { createKafka } from '../platform/kafka.ts';
import { createLogger } from '../lib/log.ts';
import { VALID_ANSWER } from '../test/fixtures/analysis.ts';
import { SchemaCatalog } from '../schemas/catalog.ts';
import type { IncidentRecord } from '../schemas/topics.ts';
import { startOllamaStandIn, type Behaviour } from '../test/helpers/ollama-stand-in.ts';
import { percentile } from './load.ts';
import { benchStackUp, REPO, stopChild, waitReady } from './stack.ts';
import { Teardown } from './teardown.ts';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    count: { type: 'string', default: '100' },
    rate: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '3' },
    'timeout-ms': { type: 'string', default: '2000' },
    'slow-ms': { type: 'string', default: '10000' },
    'poll-ms': { type: 'string', default: '50' },
  },
});
const say = (msg: string) => !values.json && process.stderr.write(`${msg}\n`);
const count = Number(values.count);
const rate = Number(values.rate);
const warmup = Number(values.warmup);
const timeoutMs = Number(values['timeout-ms']);
const slowMs = Number(values['slow-ms']);
const pollMs = Number(values['poll-ms']);
if (!(count > 0 && rate > 0 && warmup >= 0 && timeoutMs > 0 && pollMs > 0))
  throw new Error('--count, --rate, --timeout-ms and --poll-ms must be positive, --warmup at least 0');
if (slowMs <= timeoutMs) throw new Error(`--slow-ms (${slowMs}) must exceed --timeout-ms (${timeoutMs}), or the timeout mode is not one`);

const DATA_DIR = path.join(REPO, '.data', 'bench-analysis');
const LOG_DIR = path.join(DATA_DIR, 'logs');
const PORTS = { kafka: 39292, kafkaController: 39293, registry: 38281, redis: 36579 };
const PROCESSORS_PORT = 38290;
const ADMIN_KEY = 'bench-admin-key';
const TENANT = 'bench'; // the tenant of `bench-key` in every bench stack
/** How long analyses still missing after the last publish may take (beyond one model timeout) before they count as missed. */
const GRACE_MS = 30_000;
const SERVICES = [
  'checkout',
  'payments',
  'search',
  'catalog',
  'cart',
  'auth',
  'inventory',
  'shipping',
  'pricing',
  'reviews',
  'recommendations',
  'notifications',
];

type Mode = 'instant' | 'timeout';
const BEHAVIOUR: Record<Mode, Behaviour> = {
  instant: { kind: 'answer', body: VALID_ANSWER },
  timeout: { kind: 'slow', ms: slowMs, then: { kind: 'answer', body: VALID_ANSWER } },
};

interface Stored {
  source: string;
  fallbackReason: string | null;
  finishedAt: number;
}

interface ModeRun {
  published: number;
  acknowledged: number;
  failures: number;
  firstFailure?: string;
  seconds: number;
  missed: number;
  modelCalls: number;
  /** Per incident acknowledged and stored, in ms. */
  toStored: number[];
  toFinished: number[];
  sources: Record<string, number>;
  fallbackReasons: Record<string, number>;
  /** Incidents with more than one analysis row. */
  duplicated: number;
}

const teardown = new Teardown().stopOnSignals();
try {
  say(`bench: starting a fresh local stack in ${path.relative(REPO, DATA_DIR)}…`);
  const { env } = await benchStackUp(DATA_DIR, PORTS, { teardown, fresh: true, say });
  mkdirSync(LOG_DIR, { recursive: true });

  const ollama = await startOllamaStandIn({ model: 'llama3.2:3b' });
  teardown.defer('the Ollama stand-in', () => ollama.close());
  const processorsUrl = `http://localhost:${PROCESSORS_PORT}`;
  const out = openSync(path.join(LOG_DIR, 'processors.log'), 'a');
  const child = spawnProcessors(
    {
      ...env,
      PORT: String(PROCESSORS_PORT),
      AUTOPILOT_ADMIN_KEY: ADMIN_KEY,
      OLLAMA_HOST: ollama.url,
      ANALYZE_MODEL: 'llama3.2:3b',
      ANALYZE_TIMEOUT_MS: String(timeoutMs),
      // One model call per incident: the figure is one timeout, and each scripted behaviour meets one incident.
      ANALYZE_RETRIES: '0',
    },
    out,
  );
  teardown.defer('sink + analyze', () => stopChild(child, 30_000));
  say('bench: starting sink and analyze…');
  await waitReady(`${processorsUrl}/health/ready`, child, 'sink + analyze');

  const log = createLogger('bench', 'warn');
  const catalog = SchemaCatalog.connect(env.SCHEMA_REGISTRY_URL!);
  await catalog.registerAll(); // finds the ids the child registered
  const pub = await createPublisher(createKafka([env.KAFKA_BROKERS!], 'autopilot-bench', log), catalog, log);
  teardown.defer('the publisher', () => pub.close().catch(() => undefined));

  const sql = async <T>(query: string): Promise<T[]> => {
    const r = await fetch(`${processorsUrl}/admin/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    if (!r.ok) throw new Error(`/admin/sql answered ${r.status}: ${await r.text()}`);
    return ((await r.json()) as { data: T[] }).data;
  };

  /** `n` incidents at `rate`/s with the stand-in scripted for `mode`, until every acknowledged one is stored or the grace is over. */
  const runMode = async (mode: Mode, n: number): Promise<ModeRun> => {
    ollama.script(...Array.from({ length: n }, () => BEHAVIOUR[mode]));
    const callsBefore = ollama.asked().length;
    const ids = new Set<string>();
    const ackedAt = new Map<string, number>();
    const seenAt = new Map<string, number>();
    let failures = 0;
    let firstFailure: string | undefined;

    let loadDone = false;
    let loadDoneAt = Infinity;
    let pollError: Error | undefined;
    const poller = (async () => {
      for (;;) {
        const started = performance.now();
        try {
          const rows = await sql<{ incident_id: string }>(`SELECT incident_id FROM analyses WHERE tenant = '${TENANT}'`);
          const at = Date.now(); // the answer's arrival: an upper bound, off by at most one poll
          for (const { incident_id: id } of rows) if (ids.has(id) && !seenAt.has(id)) seenAt.set(id, at);
        } catch (err) {
          pollError ??= err as Error;
        }
        if (loadDone && ([...ackedAt.keys()].every((id) => seenAt.has(id)) || performance.now() > loadDoneAt + timeoutMs + GRACE_MS)) return;
        await sleep(Math.max(0, pollMs - (performance.now() - started)));
      }
    })();

    // Open-loop: each incident is due at i/rate s whether or not the last was acknowledged, as correlate would emit them.
    const intervalMs = 1000 / rate;
    const started = performance.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      await sleep(Math.max(0, started + i * intervalMs - performance.now()));
      const incident = incidentRecord(i);
      ids.add(incident.incident_id);
      pending.push(
        pub.publish('incidents', [incident]).then(
          () => void ackedAt.set(incident.incident_id, Date.now()),
          (err: Error) => {
            failures++;
            firstFailure ??= err.message;
          },
        ),
      );
    }
    await Promise.all(pending);
    const seconds = (performance.now() - started) / 1000;
    loadDone = true;
    loadDoneAt = performance.now();
    await poller;
    if (pollError && seenAt.size === 0) throw pollError;

    // What was stored, collapsed: the source and finish time of each of this mode's incidents.
    const rows = await sql<{ incident_id: string; source: string; fallback_reason: string | null; finished: string }>(
      `SELECT incident_id, source, fallback_reason, toUnixTimestamp64Milli(created_at) AS finished FROM analyses FINAL WHERE tenant = '${TENANT}'`,
    );
    const stored = new Map<string, Stored>();
    let duplicated = 0;
    const sources: Record<string, number> = {};
    const fallbackReasons: Record<string, number> = {};
    for (const r of rows) {
      if (!ids.has(r.incident_id)) continue;
      if (stored.has(r.incident_id)) duplicated++;
      stored.set(r.incident_id, { source: r.source, fallbackReason: r.fallback_reason, finishedAt: Number(r.finished) });
      sources[r.source] = (sources[r.source] ?? 0) + 1;
      if (r.fallback_reason) fallbackReasons[r.fallback_reason] = (fallbackReasons[r.fallback_reason] ?? 0) + 1;
    }
    const toStored: number[] = [];
    const toFinished: number[] = [];
    for (const [id, acked] of ackedAt) {
      const seen = seenAt.get(id);
      const row = stored.get(id);
      if (seen !== undefined) toStored.push(seen - acked);
      if (row) toFinished.push(row.finishedAt - acked);
    }
    return {
      published: n,
      acknowledged: ackedAt.size,
      failures,
      ...(firstFailure ? { firstFailure } : {}),
      seconds,
      missed: ackedAt.size - toStored.length,
      modelCalls: ollama.asked().length - callsBefore,
      toStored: toStored.sort((a, b) => a - b),
      toFinished: toFinished.sort((a, b) => a - b),
      sources,
      fallbackReasons,
      duplicated,
    };
  };

  if (warmup > 0) {
    say(`bench: warm-up, ${warmup} incidents answered at once (not measured)…`);
    const w = await runMode('instant', warmup);
    if (w.acknowledged < warmup || w.missed > 0)
      throw new Error(
        `warm-up: ${w.acknowledged} of ${warmup} incidents acknowledged, ${w.missed} not analysed in time: the pipeline does not work (log: ${path.relative(REPO, LOG_DIR)}/processors.log)${w.firstFailure ? `; first failure: ${w.firstFailure}` : ''}`,
      );
  }

  const modes: Partial<Record<Mode, ReturnType<typeof figure>>> = {};
  const invalid: string[] = [];
  for (const mode of ['instant', 'timeout'] as const) {
    const what = mode === 'instant' ? 'the stand-in answering at once' : `the stand-in answering after ${slowMs} ms, past the ${timeoutMs} ms timeout`;
    say(`bench: ${mode}: ${count} incidents at ${rate}/s, ${what}…`);
    const r = await runMode(mode, count);
    const f = figure(r);
    modes[mode] = f;
    const problems = check(mode, r);
    invalid.push(...problems.map((p) => `${mode}: ${p}`));
    say(
      `bench: ${mode}: opened → stored p50 ${f.opened_to_stored_ms.p50} ms, p99 ${f.opened_to_stored_ms.p99} ms; sources ${JSON.stringify(r.sources)}${problems.length ? ' (INVALID)' : ''}`,
    );
  }

  const result = {
    bench: 'analysis',
    count,
    rate_per_s: rate,
    analyze_timeout_ms: timeoutMs,
    analyze_retries: 0,
    stand_in_slow_ms: slowMs,
    poll_ms: pollMs,
    modes,
    valid: invalid.length === 0,
    ...(invalid.length ? { invalid } : {}),
  };
  if (values.json) console.log(JSON.stringify(result));
  else {
    for (const [mode, f] of Object.entries(modes)) {
      const s = f.opened_to_stored_ms;
      const d = f.opened_to_finished_ms;
      console.log(
        `${mode.padEnd(8)} opened → stored p50 ${s.p50} p90 ${s.p90} p99 ${s.p99} max ${s.max} ms;  opened → finished p50 ${d.p50} p90 ${d.p90} p99 ${d.p99} max ${d.max} ms  (${JSON.stringify(f.sources)}, ${f.missed} missed)`,
      );
    }
    console.log(JSON.stringify(result, null, 2));
  }
  if (invalid.length) {
    process.stderr.write(
      `bench: INVALID RUN, these are not figures:\n${invalid.map((p) => `  - ${p}`).join('\n')}\n(log: ${path.relative(REPO, LOG_DIR)}/processors.log)\n`,
    );
    process.exitCode = 1;
  }
} finally {
  await teardown.run();
}

/** `sink` and `analyze` in one child process (the embedded ClickHouse is one process's), run as `autopilot run` runs a component. */
function spawnProcessors(env: NodeJS.ProcessEnv, out: number): ChildProcess {
  const code = [
    `import { runComponents } from ${JSON.stringify(path.join(REPO, 'cli/run.ts'))};`,
    `import { loadConfig } from ${JSON.stringify(path.join(REPO, 'lib/config.ts'))};`,
    `await runComponents(['sink', 'analyze'], loadConfig());`,
  ].join('\n');
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO, env, stdio: ['ignore', out, out] });
}

/** A new incident, version 1 and open, as correlate emits it: a deployment, then latency and errors on its service. */
function incidentRecord(i: number): IncidentRecord {
  const now = Date.now();
  const service = SERVICES[i % SERVICES.length]!;
  const deployedAt = now - 4 * 60_000;
  const version = `v2.${i % 10}.${i % 7}`;
  const deployment = `dep_${randomBytes(4).toString('hex')}`;
  return {
    incident_id: `inc_${randomBytes(10).toString('hex')}`,
    tenant: TENANT,
    service,
    version: 1,
    status: 'open',
    severity: 'critical',
    opened_at: deployedAt,
    updated_at: now,
    resolved_at: null,
    signals: [
      {
        id: deployment,
        kind: 'deployment',
        at: deployedAt,
        summary: `deployed ${version} (succeeded) commit ${randomBytes(4).toString('hex').slice(0, 7)}`,
        severity: null,
      },
      {
        id: `an_${randomBytes(6).toString('hex')}`,
        kind: 'anomaly',
        at: now - 60_000,
        summary: `http_request_duration_ms = ${780 + (i % 50)} vs baseline 120 (z 8.1)`,
        severity: 'critical',
      },
      {
        id: `an_${randomBytes(6).toString('hex')}`,
        kind: 'error_spike',
        at: now - 30_000,
        summary: 'error_rate = 0.21 vs baseline 0.01 (z 6.3)',
        severity: 'high',
      },
    ],
    signal_count: 3,
    suspect_deployment: { id: deployment, version, at: deployedAt, minutes_before: 3 },
  };
}

function figure(r: ModeRun) {
  const q = (sorted: number[]) => ({
    p50: Math.round(percentile(sorted, 0.5)),
    p90: Math.round(percentile(sorted, 0.9)),
    p99: Math.round(percentile(sorted, 0.99)),
    max: Math.round(sorted[sorted.length - 1] ?? NaN),
  });
  return {
    incidents: r.published,
    acknowledged: r.acknowledged,
    publish_seconds: Number(r.seconds.toFixed(1)),
    failures: r.failures,
    ...(r.firstFailure ? { first_failure: r.firstFailure } : {}),
    stored: r.toStored.length,
    missed: r.missed,
    opened_to_stored_ms: q(r.toStored),
    opened_to_finished_ms: q(r.toFinished),
    sources: r.sources,
    fallback_reasons: r.fallbackReasons,
    model_calls: r.modelCalls,
    ...(r.duplicated ? { duplicated: r.duplicated } : {}),
  };
}

/** Why this mode's figures do not measure what the mode says, if they do not. */
function check(mode: Mode, r: ModeRun): string[] {
  const problems: string[] = [];
  if (r.failures) problems.push(`${r.failures} of ${r.published} incidents not acknowledged by Kafka (first: ${r.firstFailure})`);
  if (r.missed) problems.push(`${r.missed} acknowledged incidents had no analysis stored within ${timeoutMs + GRACE_MS} ms after the last publish`);
  if (r.duplicated) problems.push(`${r.duplicated} incidents have more than one analysis`);
  const llm = r.sources.llm ?? 0;
  const rules = r.sources.rules ?? 0;
  const timedOut = r.fallbackReasons.timeout ?? 0;
  const got = `got llm ${llm}, rules ${rules} (fallback reasons ${JSON.stringify(r.fallbackReasons)})`;
  if (mode === 'instant' && (llm !== r.acknowledged || rules !== 0)) problems.push(`expected all ${r.acknowledged} analyses from the model, ${got}`);
  if (mode === 'timeout' && (rules !== r.acknowledged || timedOut !== r.acknowledged || llm !== 0))
    problems.push(`expected all ${r.acknowledged} analyses from the rules after a timeout, ${got}`);
  if (r.modelCalls !== r.acknowledged) problems.push(`the stand-in was asked ${r.modelCalls} times for ${r.acknowledged} incidents (one call each expected)`);
  return problems;
}
