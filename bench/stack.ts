/**
 * What the benchmarks share: a local stack of their own (Kafka, registry and
 * Redis on ports apart from `npm start`'s and the tests'), the environment
 * their child processes run with, and those children. Components run as
 * `autopilot run <component>`, as in production, so the load generator's CPU
 * and memory are never counted as theirs. Whatever a benchmark starts here is
 * handed to its Teardown, which stops it when the benchmark ends.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  stackConfigFromEnv,
  stackDown,
  stackStatus,
  stackUp,
  stackUrls,
  stopService,
  type ServiceName,
  type ServiceStatus,
  type StackConfig,
} from '../compose/local/stack.ts';
import type { Teardown } from './teardown.ts';

export const REPO = path.resolve(import.meta.dirname, '..');

export interface BenchPorts {
  kafka: number;
  kafkaController: number;
  registry: number;
  redis: number;
}

export interface BenchStack {
  cfg: StackConfig;
  /** For children: the stack's URLs, the bench tenant's API key (`bench-key`), warn-level logs. */
  env: NodeJS.ProcessEnv;
  /** Stops the services this call started, now rather than at teardown (a phase that wants a fresh stack next). */
  stop: () => Promise<void>;
}

/** The stack whose data lives in `dataDir`, and the environment children run with (its URLs are added once it is up). */
export function benchStackConfig(dataDir: string, ports: BenchPorts): Omit<BenchStack, 'stop'> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AUTOPILOT_DATA_DIR: dataDir,
    KAFKA_PORT: String(ports.kafka),
    KAFKA_CONTROLLER_PORT: String(ports.kafkaController),
    SCHEMA_REGISTRY_PORT: String(ports.registry),
    REDIS_PORT: String(ports.redis),
    AUTOPILOT_API_KEYS: 'bench:bench-key',
    LOG_LEVEL: 'warn',
  };
  return { cfg: stackConfigFromEnv(env), env };
}

/**
 * Starts (or finds running) the stack whose data lives in `dataDir`, and has
 * `teardown` stop the services it started; those it found running stay up.
 * `fresh` stops the stack of that folder and wipes it first, as the tests do
 * (empty topics, consumer groups, Redis state and ClickHouse tables): then
 * everything in it is this run's to stop.
 */
export async function benchStackUp(
  dataDir: string,
  ports: BenchPorts,
  opts: { teardown: Teardown; fresh?: boolean; say?: (msg: string) => void },
): Promise<BenchStack> {
  const { cfg, env } = benchStackConfig(dataDir, ports);
  if (opts.fresh) {
    await stackDown(cfg);
    await rm(dataDir, { recursive: true, force: true });
  }
  const say = opts.say ?? (() => {});
  const { stop, found } = await upOwning(
    {
      status: () => stackStatus(cfg),
      up: () => stackUp(cfg),
      stop: async (names) => {
        await Promise.all(names.map((name) => stopService(cfg, name)));
      },
    },
    opts.teardown,
    `the local stack in ${path.relative(REPO, dataDir)}`,
    () => say('bench: stopping the local stack…'),
  );
  if (found.length > 0) say(`bench: ${found.join(', ')} already running on the bench's ports: used, and left running afterwards`);
  const urls = stackUrls(cfg);
  Object.assign(env, { KAFKA_BROKERS: urls.kafkaBrokers, SCHEMA_REGISTRY_URL: urls.schemaRegistryUrl, REDIS_URL: urls.redisUrl });
  return { cfg, env, stop };
}

/** What upOwning does to a stack: the local stack's own functions, or fakes in a test. */
export interface StackOps {
  status(): Promise<Pick<ServiceStatus, 'name' | 'running'>[]>;
  up(): Promise<unknown>;
  /** Stops these services if this stack started them; a no-op for those already stopped. */
  stop(names: ServiceName[]): Promise<void>;
}

/**
 * Brings a stack up and has `teardown` stop the services this call started,
 * and only those: a service found running (a stack kept up between runs, a
 * developer's, someone else's on these ports) is left as it was found. The
 * stop is deferred before starting, so a failure or a signal halfway through
 * still stops whatever got started; stopped during start-up, it stops again
 * once the start has ended, for a service spawned in between. `stop` works
 * once: called again (the phase stopped it, then the teardown) it does nothing.
 */
export async function upOwning(
  ops: StackOps,
  teardown: Teardown,
  what: string,
  onStop: () => void = () => {},
): Promise<{ stop: () => Promise<void>; found: ServiceName[] }> {
  const before = await ops.status();
  const started = before.filter((s) => !s.running).map((s) => s.name);
  const found = before.filter((s) => s.running).map((s) => s.name);
  let starting: Promise<unknown> | undefined;
  let stopping: Promise<void> | undefined;
  // Once: what runs on these ports after this stack was stopped is not this call's.
  const stop = () =>
    (stopping ??= (async () => {
      if (started.length === 0) return;
      onStop();
      const stillStarting = starting;
      await ops.stop(started);
      if (stillStarting) {
        await stillStarting.catch(() => undefined);
        await ops.stop(started);
      }
    })());
  teardown.defer(what, stop);
  starting = ops.up();
  try {
    await starting;
  } finally {
    starting = undefined;
  }
  return { stop, found };
}

/**
 * `node [nodeArgs] bin/autopilot.js run <component>` with `env`, stopped at
 * `teardown` (after `stopGraceMs` it is killed) unless stopped before.
 */
export function spawnAutopilot(
  component: string,
  env: NodeJS.ProcessEnv,
  teardown: Teardown,
  opts: { nodeArgs?: string[]; stdio?: StdioOptions; stopGraceMs?: number } = {},
): ChildProcess {
  const bin = path.join(REPO, 'bin/autopilot.js');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), bin, 'run', component], { env, stdio: opts.stdio ?? ['ignore', 'inherit', 'inherit'] });
  teardown.defer(component, () => stopChild(child, opts.stopGraceMs));
  return child;
}

/** Resolves once `url` answers 2xx; fails at once if `child` exits first. */
export async function waitReady(url: string, child: ChildProcess, name: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(250);
  }
  throw new Error(`${name} did not become ready`);
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it is gone. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const inTime = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (inTime) return;
  child.kill('SIGKILL');
  await exited;
}

/**
 * CPU seconds (user + system, every thread) a live process has used so far,
 * from /proc/<pid>/stat fields 14 and 15. Linux counts them in clock ticks of
 * 1/100 s (USER_HZ, the same on every architecture Node runs on).
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Error-level lines (pino level ≥ 50) in each component's log in `logDir`, with the first one's message: what went wrong while measuring. */
export function logErrors(logDir: string, components: readonly string[]): Record<string, { count: number; first: string }> {
  const out: Record<string, { count: number; first: string }> = {};
  for (const component of components) {
    let text = '';
    try {
      text = readFileSync(path.join(logDir, `${component}.log`), 'utf8');
    } catch {
      continue;
    }
    const errors = text.split('\n').filter((line) => /"level":(5|6)\d/.test(line));
    if (errors.length === 0) continue;
    const first = JSON.parse(errors[0]!) as { msg?: string; error?: string; err?: { message?: string } };
    out[component] = { count: errors.length, first: [first.msg, first.error ?? first.err?.message].filter(Boolean).join(': ') };
  }
  return out;
}
