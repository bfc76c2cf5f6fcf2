import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cooldown } from './cooldown.ts';
import { freePort } from '../../test/helpers/daemon.ts';

/** A throwaway redis-server of our own on a free port in a temp dir (installed by .ci/run), so the test needs no stack. */
let server: ChildProcess;
let dir: string;
let port: number;
const clients: Redis[] = [];


function client(): Redis {
  const c = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'autopilot-cooldown-'));
  port = await freePort();
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
    stdio: 'ignore',
  });
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
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Cooldown', () => {
  it('lets one caller through per key until the TTL runs out', async () => {
    const cooldown = new Cooldown(client(), 'test1');
    expect(await cooldown.tryAcquire('acme', 'checkout', 'incident.analyzed', 300)).toBe(true);
    expect(await cooldown.tryAcquire('acme', 'checkout', 'incident.analyzed', 300)).toBe(false);
    // Another service, tenant or reason is another key.
    expect(await cooldown.tryAcquire('acme', 'payments', 'incident.analyzed', 300)).toBe(true);
    expect(await cooldown.tryAcquire('globex', 'checkout', 'incident.analyzed', 300)).toBe(true);
    expect(await cooldown.tryAcquire('acme', 'checkout', 'alert.firing', 300)).toBe(true);
    await sleep(400);
    expect(await cooldown.tryAcquire('acme', 'checkout', 'incident.analyzed', 300)).toBe(true);
  });

  it('sets the TTL with the key, in one command', async () => {
    const redis = client();
    const cooldown = new Cooldown(redis, 'test2');
    await cooldown.tryAcquire('acme', 'checkout', 'r', 60_000);
    const ttl = await redis.pttl(cooldown.keyOf('acme', 'checkout', 'r'));
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('grants exactly one of many concurrent callers on separate connections (separate processes, as far as Redis can tell)', async () => {
    const cooldowns = Array.from({ length: 8 }, () => new Cooldown(client(), 'test3'));
    const results = await Promise.all(cooldowns.flatMap((c) => Array.from({ length: 5 }, () => c.tryAcquire('acme', 'checkout', 'race', 10_000))));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(results).toHaveLength(40);
  });

  it('keeps keys of different parts apart even when the parts contain the separator', () => {
    const c = new Cooldown(client(), 'ns');
    expect(c.keyOf('a:b', 'c', 'r')).not.toBe(c.keyOf('a', 'b:c', 'r'));
  });
});
