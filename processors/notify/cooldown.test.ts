import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cooldown } from './cooldown.ts';
import { FinishedDeliveries } from './finished.ts';
import { startThrowawayRedis, type ThrowawayRedis } from '../../test/helpers/redis-server.ts';
import type { NotificationDelivery } from '../../schemas/topics.ts';

let redis: ThrowawayRedis;
beforeAll(async () => {
  redis = await startThrowawayRedis();
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

describe('Cooldown', () => {
  it('lets one notice through per key until the TTL runs out', async () => {
    const cooldown = new Cooldown(redis.client(), 'test1');
    expect(await cooldown.claim('acme', 'checkout', 'incident.analyzed', 'an-1', 300)).toBe(true);
    expect(await cooldown.claim('acme', 'checkout', 'incident.analyzed', 'an-2', 300)).toBe(false);
    // Another service, tenant or reason is another key.
    expect(await cooldown.claim('acme', 'payments', 'incident.analyzed', 'an-3', 300)).toBe(true);
    expect(await cooldown.claim('globex', 'checkout', 'incident.analyzed', 'an-4', 300)).toBe(true);
    expect(await cooldown.claim('acme', 'checkout', 'alert.firing', 'al-1', 300)).toBe(true);
    await sleep(400);
    expect(await cooldown.claim('acme', 'checkout', 'incident.analyzed', 'an-2', 300)).toBe(true);
  });

  it('lets the holder claim again (a replay after a crash before delivery), and no one else', async () => {
    const redisClient = redis.client();
    const cooldown = new Cooldown(redisClient, 'test-holder');
    expect(await cooldown.claim('acme', 'checkout', 'incident', 'an-1', 60_000)).toBe(true);
    // The process that took it died; its replay comes from another process, on another connection.
    expect(await new Cooldown(redis.client(), 'test-holder').claim('acme', 'checkout', 'incident', 'an-1', 60_000)).toBe(true);
    expect(await cooldown.claim('acme', 'checkout', 'incident', 'an-2', 60_000)).toBe(false);
    // The key still names the first holder: a claim by another notice changed nothing.
    expect(await redisClient.get(cooldown.keyOf('acme', 'checkout', 'incident'))).toBe('an-1');
  });

  it('sets the TTL with the key, in one command', async () => {
    const client = redis.client();
    const cooldown = new Cooldown(client, 'test2');
    await cooldown.claim('acme', 'checkout', 'r', 'x', 60_000);
    const ttl = await client.pttl(cooldown.keyOf('acme', 'checkout', 'r'));
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('grants exactly one of many concurrent notices on separate connections (separate processes, as far as Redis can tell)', async () => {
    const cooldowns = Array.from({ length: 8 }, () => new Cooldown(redis.client(), 'test3'));
    const results = await Promise.all(
      cooldowns.flatMap((c, i) => Array.from({ length: 5 }, (_, j) => c.claim('acme', 'checkout', 'race', `n-${i}-${j}`, 10_000))),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(results).toHaveLength(40);
  });

  it('keeps keys of different parts apart even when the parts contain the separator', () => {
    const c = new Cooldown(redis.client(), 'ns');
    expect(c.keyOf('a:b', 'c', 'r')).not.toBe(c.keyOf('a', 'b:c', 'r'));
  });
});

describe('FinishedDeliveries', () => {
  const row = (o: Partial<NotificationDelivery> = {}): NotificationDelivery => ({
    delivery_id: 'd1',
    tenant: 'acme',
    service: 'checkout',
    target_id: 't1',
    target_kind: 'webhook',
    reason: 'incident',
    subject_id: 'inc-1',
    outcome: 'delivered',
    attempts: 1,
    status_code: 200,
    error: null,
    duration_ms: 12,
    at: 1_714_564_980_000,
    ...o,
  });

  it('gives back the recorded outcome of a notice per target, null for the others', async () => {
    const finished = new FinishedDeliveries(redis.client(), 'test-fin');
    await finished.record('an-1', row());
    await finished.record('an-1', row({ target_id: 't3', outcome: 'suppressed', attempts: 0, status_code: null }));
    expect(await finished.find('acme', 'an-1', ['t1', 't2', 't3'])).toEqual([
      row(),
      null,
      row({ target_id: 't3', outcome: 'suppressed', attempts: 0, status_code: null }),
    ]);
    // Another notice of the same incident, or the same ids in another tenant, are not finished.
    expect(await finished.find('acme', 'an-2', ['t1'])).toEqual([null]);
    expect(await finished.find('globex', 'an-1', ['t1'])).toEqual([null]);
    expect(await finished.find('acme', 'an-1', [])).toEqual([]);
  });

  it('forgets after its TTL', async () => {
    const finished = new FinishedDeliveries(redis.client(), 'test-fin-ttl', 200);
    await finished.record('an-1', row());
    await sleep(300);
    expect(await finished.find('acme', 'an-1', ['t1'])).toEqual([null]);
  });
});
