import { mkdir } from 'node:fs/promises';
import { ensureDebianTool } from './apt.ts';
import { serviceDataDir, type StackConfig } from './config.ts';
import { redisAnswersPing } from './probes.ts';
import type { LaunchSpec } from './process.ts';
import type { Progress, ServiceDefinition } from './service.ts';

async function redisServerPath(progress: Progress = () => {}): Promise<string> {
  return ensureDebianTool('redis-server', 'redis-server', (msg) => progress(`redis: ${msg}`));
}

export const redisService: ServiceDefinition = {
  name: 'redis',
  port: (cfg) => cfg.redisPort,
  processMarker: 'redis-server',
  bootTimeoutMs: 20_000,
  stopGraceMs: 10_000,

  async fetch(_cfg: StackConfig, progress: Progress): Promise<void> {
    await redisServerPath(progress);
  },

  async prepareLaunch(cfg: StackConfig): Promise<LaunchSpec> {
    const dir = serviceDataDir(cfg, 'redis');
    await mkdir(dir, { recursive: true });
    return {
      cmd: await redisServerPath(),
      args: [
        '--port',
        String(cfg.redisPort),
        // "-::1": listen on IPv6 loopback too when the machine has it, without failing when it does not.
        '--bind',
        '127.0.0.1 -::1',
        '--dir',
        dir,
        // Not a cache: detector baselines, incident and alert-rule state, cooldowns and the analysed-incident
        // markers live here, each written with the offsets it reflects. An append-only file, fsynced every
        // second, keeps them across a restart of Redis.
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        // We track the process ourselves; a daemonizing fork would escape the pid file.
        '--daemonize',
        'no',
        // Empty log file name means stdout, which goes to our log.
        '--logfile',
        '',
      ],
      cwd: dir,
    };
  },

  isAnswering: (cfg) => redisAnswersPing(cfg.redisPort),
};
