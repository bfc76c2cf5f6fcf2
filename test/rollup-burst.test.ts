import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sortKeys } from '../lib/labels.ts';
import { partitionOf, TOPICS } from '../schemas/topics.ts';
import { eventually, startTestPipeline, topicEnd, type TestPipeline } from './helpers/pipeline.ts';

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
    const rollupsBefore = await topicEnd(p.services.kafka, TOPICS.rollups.topic);
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
    // Nothing else writes rollups while this file runs: the topic grew by exactly the windows closed.
    await eventually(
      async () => (await topicEnd(p.services.kafka, TOPICS.rollups.topic)) - rollupsBefore,
      (n) => n === SERIES,
      60_000,
    );
  }, 240_000);
});
