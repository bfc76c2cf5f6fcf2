import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sortKeys } from '../lib/labels.ts';
import { CHUNK_BYTES } from '../platform/publisher.ts';
import { SchemaCatalog } from '../schemas/catalog.ts';
import { partitionOf, TOPICS, type RollupBatch } from '../schemas/topics.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Issue 9, finding 2: the rollup processor sent every window a batch closed
 * in one Kafka send. With tens of thousands of series closing at once (all
 * of one service, so one partition of autopilot.rollups) the send exceeded
 * Kafka's message limit; the retry found the windows already closed, sent
 * nothing, and committed: the table held 51,741 windows, the topic 19, and
 * threshold alert rules (which read the topic) never saw the rest. On that
 * code this test's topic count stays far below the table's.
 */
describe('a burst of closing windows', () => {
  let p: TestPipeline;
  const SERIES = 30_000;
  const WINDOW = 60_000;
  const start = Math.floor((Date.now() - 10 * WINDOW) / WINDOW) * WINDOW;

  beforeAll(async () => {
    p = await startTestPipeline('burst', { processors: ['sink', 'rollup'] });
  });
  afterAll(async () => p?.stop());

  it('every window is in the table and on the topic', async () => {
    const windowsOnTopic = await countWindows(p, start);
    const points = Array.from({ length: SERIES }, (_, i) => ({
      timestamp: start + 1000 + (i % 50_000),
      metric_name: 'queue_depth',
      value: i % 97,
      labels: { service: 'burst', instance: `i${i}` },
    }));
    for (let i = 0; i < points.length; i += 10_000) expect((await p.post('/v1/metrics', points.slice(i, i + 10_000))).status).toBe(202);

    // Windows close per Kafka partition, when its event time passes them: one later point on each partition.
    const partitions = p.config.topicPartitions;
    const flush = new Map<number, object>();
    for (let i = 0; flush.size < partitions; i++) {
      const labels = sortKeys({ service: 'burst', instance: `flush${i}` });
      const partition = partitionOf(TOPICS.metrics.key({ tenant: p.tenants.a, metric_name: 'queue_depth', labels } as never), partitions);
      if (!flush.has(partition)) flush.set(partition, { timestamp: start + 5 * WINDOW, metric_name: 'queue_depth', value: 0, labels });
    }
    expect((await p.post('/v1/metrics', [...flush.values()])).status).toBe(202);

    const windows = async () =>
      Number(
        (
          await p.rows<{ n: string }>(
            `SELECT count() AS n FROM metric_rollups FINAL WHERE tenant = {t:String} AND window_start = fromUnixTimestamp64Milli({w:Int64})`,
            { t: p.tenants.a, w: start },
          )
        )[0]!.n,
      );
    await eventually(windows, (n) => n === SERIES, 120_000);
    // Every window closed, once, in the batch records (a retried send may repeat a record: consumers key by content).
    await eventually(
      async () => windowsOnTopic.distinct(),
      (n) => n === SERIES,
      60_000,
    );
    await windowsOnTopic.stop();
    // And in records Kafka could take: cut by the publisher, more than one, each under its limit.
    expect(windowsOnTopic.records()).toBeGreaterThan(1);
    expect(windowsOnTopic.largest()).toBeLessThanOrEqual(CHUNK_BYTES);
  }, 240_000);
});

/** Reads autopilot.rollup-batches from the start: this run's tenant's windows starting at `windowStart` (other files' tenants are skipped). */
async function countWindows(p: TestPipeline, windowStart: number) {
  const catalog = SchemaCatalog.connect(p.config.schemaRegistryUrl);
  const consumer = p.services.kafka.consumer({ groupId: `rollup-burst-reader-${Math.random().toString(36).slice(2)}` });
  const seen = new Set<string>();
  let records = 0;
  let largest = 0;
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.rollupBatches.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const batch = (await catalog.decode(message.value!)) as RollupBatch;
      if (batch.tenant !== p.tenants.a) return;
      records++;
      largest = Math.max(largest, message.value!.length);
      for (const w of batch.windows) if (w.window_start === windowStart) seen.add(JSON.stringify(w.labels));
    },
  });
  return {
    distinct: async () => seen.size,
    records: () => records,
    largest: () => largest,
    stop: () => consumer.disconnect(),
  };
}
