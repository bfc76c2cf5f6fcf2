import { afterAll, beforeAll, expect, it } from 'vitest';
import { TOPICS } from '../schemas/topics.ts';
import { readDeadLetters } from './helpers/dead-letters.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Rows ClickHouse itself refuses in a gathered insert (the encoder took
 * them; a table constraint, a type the engine rejects) are isolated by
 * halving, and their records dead-lettered by the sink's flush before the
 * gathering lets its partitions commit past them. Small gatherings
 * (SINK_FLUSH_ROWS 100), so inserts are made while later batches are taken,
 * not only by the timer.
 */
let p: TestPipeline;

beforeAll(async () => {
  p = await startTestPipeline('gather-refused', { processors: ['sink'], env: { SINK_FLUSH_ROWS: '100' } });
});
afterAll(async () => p?.stop());

it('rows ClickHouse refuses are dead-lettered with their record, every other row is written, and the group commits past them', {
  timeout: 60_000,
}, async () => {
  // A table constraint is ClickHouse refusing rows the encoder took: the same path as any row only the engine rejects.
  await p.services.clickhouse!.command({ query: 'ALTER TABLE metric_points ADD CONSTRAINT no_666 CHECK value != 666' });
  const now = Date.now();
  // Four requests of 150 points, each over its own service: 600 rows gathered in inserts of SINK_FLUSH_ROWS (100),
  // written while later batches are taken. One point of the third request is refused.
  const request = (r: number) =>
    Array.from({ length: 150 }, (_, i) => ({
      timestamp: now - 1000 + i,
      metric_name: 'refused_ms',
      value: r === 2 && i === 70 ? 666 : i,
      labels: { service: `refuse-${r}`, instance: `i-${i}` },
    }));
  for (let r = 0; r < 4; r++) expect((await p.post('/v1/metrics', request(r))).status).toBe(202);

  // The dead-letter topic is shared by every test file and run on the stack: ours is a metric batch of this run's tenant.
  const ours = Buffer.from(p.tenants.a);
  const letters = await readDeadLetters(p.services.kafka, (d) => d.sourceTopic === TOPICS.metricBatches.topic && d.value?.includes(ours) === true, 1);
  expect(letters[0]!.reason).toMatch(/^clickhouse: .*VIOLATED_CONSTRAINT|^clickhouse: .*no_666/);
  expect(letters[0]!.processor).toBe('sink');
  // Every row but the refused one is in: the refused record's other samples too (rows are keyed by content).
  const count = async () =>
    Number(
      (await p.rows<{ n: string }>(`SELECT count() AS n FROM metric_points WHERE tenant = {t:String} AND metric_name = 'refused_ms'`, { t: p.tenants.a }))[0]!
        .n,
    );
  await eventually(count, (n) => n === 599, 15_000);
  expect(Number((await p.rows<{ n: string }>(`SELECT count() AS n FROM metric_points WHERE value = 666`))[0]!.n)).toBe(0);
  // And nothing is held back: the group commits to the end of the topic.
  const admin = p.services.kafka.admin();
  await admin.connect();
  try {
    const topic = TOPICS.metricBatches.topic;
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((x) => [x.partition, x.high]));
    await eventually(
      async () => (await admin.fetchOffsets({ groupId: `${p.config.groupPrefix}-sink`, topics: [topic] }))[0]!.partitions,
      (parts) => parts.every((x) => x.offset === ends.get(x.partition)),
      15_000,
    );
  } finally {
    await admin.disconnect();
  }
});
