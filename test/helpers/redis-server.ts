import { afterAll, beforeAll, beforeEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './daemon.ts';

/**
 * A throwaway redis-server of the test's own on a free port in a temp dir
 * (installed by .ci/run), so a unit test of Redis-backed state needs no stack.
 */
export interface ThrowawayRedis {
  /** A new connection; closed by stop(). */
  client(): Redis;
  stop(): Promise<void>;
}

export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'autopilot-redis-'));
  const port = await freePort();
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  probe.on('error', () => {}); // refused until the server listens: expected while we wait
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') break;
    } catch (err) {
      if (i > 100 || server.exitCode !== null) throw new Error(`redis-server did not start on port ${port}: ${String(err)}`);
      probe.disconnect();
      await sleep(50);
    }
  }
  probe.disconnect();

  const clients: Redis[] = [];
  return {
    client() {
      const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A redis-server of the test file's own, started before its tests, flushed before each, stopped after. */
export function throwawayRedisPerFile(): () => ThrowawayRedis {
  let redis: ThrowawayRedis;
  beforeAll(async () => {
    redis = await startThrowawayRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });
  beforeEach(async () => {
    await redis.client().flushdb();
  });
  return () => redis;
}
