import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LaunchSpec {
  cmd: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a long-running service that must outlive the CLI: its own process
 * group (so stop can signal the whole tree), output appended to its log file,
 * and unref'd so the caller's event loop can exit.
 */
export async function spawnDetached(spec: LaunchSpec, logFile: string): Promise<number> {
  await mkdir(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(spec.cmd, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    const pid = await new Promise<number>((resolvePid, reject) => {
      child.once('error', reject);
      child.once('spawn', () => (child.pid ? resolvePid(child.pid) : reject(new Error(`no pid for ${spec.cmd}`))));
    });
    child.unref();
    return pid;
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when `pid` is alive and its command line mentions `marker`; guards
 * against a recycled pid in a stale pid file being taken for our service.
 * Where /proc is missing, being alive has to be enough.
 */
export async function isOurProcess(pid: number, marker: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.length === 0) return false; // zombie
    return cmdline.includes(marker);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT' || !isLinux();
  }
}

function isLinux(): boolean {
  return process.platform === 'linux';
}

export async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function writePidFile(file: string, pid: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${pid}\n`);
}

export async function removePidFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already; fall back to the leader alone in case it left its group.
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM to the process group, then SIGKILL if it has not exited within `graceMs`. */
export async function stopProcessGroup(pid: number, graceMs: number): Promise<'terminated' | 'killed'> {
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'terminated';
    await sleep(100);
  }
  signalGroup(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  return 'killed';
}

/** Last lines of a log file (only what was written after `fromOffset`), for error messages. */
export async function tailFile(file: string, lines = 40, fromOffset = 0): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const start = Math.max(fromOffset, size - 64 * 1024, 0);
    const length = size - start;
    if (length <= 0) return '(log is empty)';
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, start);
    // Java stack frames would crowd out the lines that say what went wrong.
    const useful = buffer
      .toString('utf8')
      .split('\n')
      .filter((line) => !/^\s+(at |\.\.\. \d+ more)/.test(line));
    return useful
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return '(no log yet)';
  } finally {
    await handle?.close();
  }
}
