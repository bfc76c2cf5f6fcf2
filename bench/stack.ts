/**
 * What the benchmarks share: a local stack of their own (Kafka, registry and
 * Redis on ports apart from `npm start`'s and the tests'), the environment
 * their child processes run with, and those children. Components run as
 * `autopilot run <component>`, as in production, so the load generator's CPU
 * and memory are never counted as theirs.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stackConfigFromEnv, stackDown, stackUp, stackUrls, type StackConfig } from '../compose/local/stack.ts';

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
}

/** The stack whose data lives in `dataDir`, and the environment children run with (its URLs are added once it is up). */
export function benchStackConfig(dataDir: string, ports: BenchPorts): BenchStack {
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
 * Starts (or finds running) the stack whose data lives in `dataDir`. `fresh`
 * stops it and wipes the folder first, as the tests do: empty topics, consumer
 * groups, Redis state and ClickHouse tables.
 */
export async function benchStackUp(dataDir: string, ports: BenchPorts, opts: { fresh?: boolean } = {}): Promise<BenchStack> {
  const { cfg, env } = benchStackConfig(dataDir, ports);
  if (opts.fresh) {
    await stackDown(cfg);
    await rm(dataDir, { recursive: true, force: true });
  }
  await stackUp(cfg);
  const urls = stackUrls(cfg);
  Object.assign(env, { KAFKA_BROKERS: urls.kafkaBrokers, SCHEMA_REGISTRY_URL: urls.schemaRegistryUrl, REDIS_URL: urls.redisUrl });
  return { cfg, env };
}

/** `node [nodeArgs] bin/autopilot.js run <component>` with `env`. */
export function spawnAutopilot(component: string, env: NodeJS.ProcessEnv, opts: { nodeArgs?: string[]; stdio?: StdioOptions } = {}): ChildProcess {
  const bin = path.join(REPO, 'bin/autopilot.js');
  return spawn(process.execPath, [...(opts.nodeArgs ?? []), bin, 'run', component], { env, stdio: opts.stdio ?? ['ignore', 'inherit', 'inherit'] });
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
