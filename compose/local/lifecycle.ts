import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceLogFile, servicePidFile, type ServiceName, type StackConfig } from './config.ts';
import { portAcceptsConnections } from './probes.ts';
import { isAlive, isOurProcess, readPidFile, removePidFile, spawnDetached, stopProcessGroup, tailFile, writePidFile } from './process.ts';
import type { Progress, ServiceDefinition } from './service.ts';

export interface ServiceStatus {
  name: ServiceName;
  /** Our process is alive, or (external) something else answers on the port. */
  running: boolean;
  answering: boolean;
  pid?: number;
  port: number;
  log: string;
  /** Answering on the port, but not started by this stack; up/down leave it alone. */
  external?: boolean;
}

const LOG_ROTATE_BYTES = 20 * 1024 * 1024;
const POLL_MS = 500;

/** Pid of the service we started, if that process is still ours; a stale pid file is removed. */
async function ourLivePid(cfg: StackConfig, def: ServiceDefinition): Promise<number | undefined> {
  const pidFile = servicePidFile(cfg, def.name);
  const pid = await readPidFile(pidFile);
  if (pid === undefined) return undefined;
  if (await isOurProcess(pid, def.processMarker)) return pid;
  await removePidFile(pidFile);
  return undefined;
}

export async function serviceStatus(cfg: StackConfig, def: ServiceDefinition): Promise<ServiceStatus> {
  const pid = await ourLivePid(cfg, def);
  const answering = await def.isAnswering(cfg);
  const base = { name: def.name, port: def.port(cfg), log: serviceLogFile(cfg, def.name), answering };
  if (pid !== undefined) return { ...base, running: true, pid };
  return answering ? { ...base, running: true, external: true } : { ...base, running: false };
}

async function byteSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/** Keeps one previous log around so a long-lived data folder does not grow without bound. */
async function rotateLogIfLarge(logFile: string): Promise<void> {
  if ((await byteSize(logFile)) > LOG_ROTATE_BYTES) await rename(logFile, `${logFile}.1`);
}

async function waitUntilAnswering(cfg: StackConfig, def: ServiceDefinition, pid: number, logOffset: number): Promise<void> {
  const logFile = serviceLogFile(cfg, def.name);
  const deadline = Date.now() + def.bootTimeoutMs;
  while (Date.now() < deadline) {
    if (await def.isAnswering(cfg)) return;
    if (!isAlive(pid)) {
      await removePidFile(servicePidFile(cfg, def.name));
      throw new Error(`${def.name} exited during startup (log: ${logFile}):\n${await tailFile(logFile, 40, logOffset)}`);
    }
    await sleep(POLL_MS);
  }
  // Leave nothing half-started behind: the next `up` then starts cleanly.
  await stopProcessGroup(pid, def.stopGraceMs);
  await removePidFile(servicePidFile(cfg, def.name));
  throw new Error(
    `${def.name} did not answer on port ${def.port(cfg)} within ${def.bootTimeoutMs / 1000}s (log: ${logFile}):\n${await tailFile(logFile, 40, logOffset)}`,
  );
}

/** Starts the service unless it already runs; resolves once it answers. */
export async function ensureRunning(cfg: StackConfig, def: ServiceDefinition, progress: Progress): Promise<void> {
  const logFile = serviceLogFile(cfg, def.name);
  const pidFile = servicePidFile(cfg, def.name);
  const port = def.port(cfg);

  const existing = await ourLivePid(cfg, def);
  if (existing !== undefined) {
    if (await def.isAnswering(cfg)) {
      progress(`${def.name}: already running (pid ${existing}, port ${port})`);
      return;
    }
    progress(`${def.name}: started earlier (pid ${existing}), waiting for it to answer`);
    await waitUntilAnswering(cfg, def, existing, await byteSize(logFile));
    return;
  }

  if (await def.isAnswering(cfg)) {
    progress(`${def.name}: port ${port} already answers but was not started by this stack; leaving it alone`);
    return;
  }
  if (await portAcceptsConnections(port)) {
    throw new Error(`${def.name}: port ${port} is taken by another program that is not ${def.name}; free it or choose another port`);
  }

  const spec = await def.prepareLaunch(cfg, progress);
  await mkdir(dirname(logFile), { recursive: true });
  await rotateLogIfLarge(logFile);
  const logOffset = await byteSize(logFile);
  await appendFile(logFile, `\n----- autopilot stack: starting ${def.name} at ${new Date().toISOString()} -----\n`);
  const started = Date.now();
  const pid = await spawnDetached(spec, logFile);
  await writePidFile(pidFile, pid);
  progress(`${def.name}: started (pid ${pid}, port ${port}), waiting for it to answer`);
  await waitUntilAnswering(cfg, def, pid, logOffset);
  await def.afterReady?.(cfg);
  progress(`${def.name}: answering after ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** Stops the service only if this stack started it (per its pid file). */
export async function stopIfOurs(cfg: StackConfig, def: ServiceDefinition, progress: Progress): Promise<void> {
  const pid = await ourLivePid(cfg, def);
  if (pid === undefined) {
    await removePidFile(servicePidFile(cfg, def.name));
    return;
  }
  const how = await stopProcessGroup(pid, def.stopGraceMs);
  await removePidFile(servicePidFile(cfg, def.name));
  progress(`${def.name}: stopped (pid ${pid}${how === 'killed' ? ', had to SIGKILL' : ''})`);
}
