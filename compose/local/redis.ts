import { mkdir } from 'node:fs/promises';
import { findOnPath, isRoot, runCommand } from './commands.ts';
import { serviceDataDir, type StackConfig } from './config.ts';
import { redisAnswersPing } from './probes.ts';
import type { LaunchSpec } from './process.ts';
import type { Progress, ServiceDefinition } from './service.ts';

const INSTALL_HINT = 'install redis-server (apt-get install redis-server)';

async function aptInstallRedis(progress: Progress): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  progress('redis: redis-server not found; installing it with apt-get');
  let result = await runCommand('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], { env });
  if (result.code !== 0) {
    // A fresh machine often has no package lists yet.
    await runCommand('apt-get', ['update'], { env });
    result = await runCommand('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], { env });
  }
  if (result.code !== 0) {
    throw new Error(`apt-get install redis-server failed (${result.code}):\n${result.output.trim().split('\n').slice(-15).join('\n')}`);
  }
}

async function redisServerPath(): Promise<string> {
  const path = await findOnPath('redis-server');
  if (!path) throw new Error(`redis-server was not found: ${INSTALL_HINT}`);
  return path;
}

export const redisService: ServiceDefinition = {
  name: 'redis',
  port: (cfg) => cfg.redisPort,
  processMarker: 'redis-server',
  bootTimeoutMs: 20_000,
  stopGraceMs: 10_000,

  async fetch(_cfg: StackConfig, progress: Progress): Promise<void> {
    if (await findOnPath('redis-server')) return;
    if (!isRoot()) throw new Error(`redis-server was not found: ${INSTALL_HINT}`);
    await aptInstallRedis(progress);
    await redisServerPath();
  },

  async prepareLaunch(cfg: StackConfig): Promise<LaunchSpec> {
    const dir = serviceDataDir(cfg, 'redis');
    await mkdir(dir, { recursive: true });
    return {
      cmd: await redisServerPath(),
      args: [
        '--port', String(cfg.redisPort),
        // "-::1": listen on IPv6 loopback too when the machine has it, without failing when it does not.
        '--bind', '127.0.0.1 -::1',
        '--dir', dir,
        // A cache for tests and local runs: nothing worth persisting.
        '--save', '',
        '--appendonly', 'no',
        // We track the process ourselves; a daemonizing fork would escape the pid file.
        '--daemonize', 'no',
        // Empty log file name means stdout, which goes to our log.
        '--logfile', '',
      ],
      cwd: dir,
    };
  },

  isAnswering: (cfg) => redisAnswersPing(cfg.redisPort),
};
