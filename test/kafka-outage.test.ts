import { afterAll, beforeAll, expect, it } from 'vitest';
import { stackConfigFromEnv, startService, stopService } from '../compose/local/stack.ts';
import { TOPICS } from '../schemas/topics.ts';
import { eventually, startTestPipeline, topicEnd, type TestPipeline } from './helpers/pipeline.ts';

/**
 * With Kafka stopped the gateway answers 503 with Retry-After, never 2xx, and
 * readiness names Kafka; once Kafka is back the same request is accepted.
 */
let p: TestPipeline;
const stack = stackConfigFromEnv(process.env);

beforeAll(async () => {
  p = await startTestPipeline('outage', { processors: [] });
});
afterAll(async () => {
  await startService(stack, 'kafka'); // leave the broker up for the next file, whatever happened
  await p?.stop();
});

it('answers 503 while Kafka is down and 202 once it is back', async () => {
  const point = () => ({ timestamp: Date.now(), metric_name: 'up', value: 1, labels: { service: 'outage' } });
  expect((await p.post('/v1/metrics', point())).status).toBe(202);
  const before = await topicEnd(p.services.kafka, TOPICS.metricBatches.topic);

  await stopService(stack, 'kafka');
  const res = await p.post('/v1/metrics', [point(), point()]);
  expect(res.status).toBe(503);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  const body = (await res.json()) as any;
  expect(body.error.code).toBe('unavailable');
  expect(body.error.message).toContain('Kafka');

  const ready = await p.app.request('/health/ready');
  expect(ready.status).toBe(503);
  const checks = ((await ready.json()) as any).checks;
  expect(checks.kafka.ok).toBe(false);
  expect(checks.redis.ok).toBe(true);

  await startService(stack, 'kafka');
  const accepted = await eventually(
    () => p.post('/v1/metrics', [point(), point()]).then((r) => r.status),
    (s) => s === 202,
    60_000,
  );
  expect(accepted).toBe(202);
  // Every 202 is in Kafka: the one before the outage is already counted in `before`, the last one adds its
  // batch record (one series, so one record). A 503 batch may or may not have been written (the client retries it).
  const after = await topicEnd(p.services.kafka, TOPICS.metricBatches.topic);
  expect(after - before).toBeGreaterThanOrEqual(1);
  expect(after - before).toBeLessThanOrEqual(4);
  expect((await p.app.request('/health/ready')).status).toBe(200);
}, 180_000);
