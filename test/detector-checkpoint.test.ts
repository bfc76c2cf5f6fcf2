import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { emptyState, observe } from '../processors/runtime/detector.ts';
import { DetectorStore, execOrThrow } from '../processors/runtime/detector-store.ts';

/**
 * A checkpoint of many series through the test stack's Redis: states are
 * written several hundred to a command (MSET), and every one of them, the
 * last partial command's included, comes back exactly. 1,234 series: two
 * full commands and a partial one.
 */
let redis: Redis;
const namespace = `checkpoint-test-${randomUUID()}`;
beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!);
});
afterAll(async () => {
  const keys = await redis.keys(`${namespace}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

it('writes every changed state in one MULTI and reads each back exactly', async () => {
  const ids = Array.from({ length: 1234 }, (_, i) => `t\u0000latency\u0000{"instance":"i-${i}"}`);
  const store = new DetectorStore(redis, namespace);
  await store.load(ids);
  for (const [i, id] of ids.entries()) for (let k = 0; k < 20; k++) observe(store.use(id), k * 1000, i + Math.sin(k));
  expect(store.changed).toBe(ids.length);
  const tx = redis.multi();
  store.writeTo(tx);
  await execOrThrow(tx);
  expect(store.changed).toBe(0);

  const again = new DetectorStore(redis, namespace);
  await again.load(ids);
  for (const [i, id] of ids.entries()) {
    const expected = emptyState();
    for (let k = 0; k < 20; k++) observe(expected, k * 1000, i + Math.sin(k));
    expect(again.use(id), id).toEqual(expected);
  }
});
