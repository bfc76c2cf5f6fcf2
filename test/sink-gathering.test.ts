import { afterAll, beforeAll, expect, it } from 'vitest';
import { TOPICS } from '../schemas/topics.ts';
import { startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * The sink gathers samples into large inserts (SINK_FLUSH_ROWS,
 * SINK_FLUSH_MS) instead of one per batch. Two promises hold through it:
 * gathered rows reach ClickHouse within SINK_FLUSH_MS even when nothing more
 * arrives (a flush on a timer, not on the next batch), and the group never
 * commits past a row that is not yet written (so a crash while rows are
 * gathered loses none: test/sink-crash.test.ts kills it mid-stream).
 */
const FLUSH_MS = 2500;
let p: TestPipeline;

beforeAll(async () => {
  p = await startTestPipeline('gather', { processors: ['sink'], env: { SINK_FLUSH_MS: String(FLUSH_MS), SINK_FLUSH_ROWS: '1000000' } });
});
afterAll(async () => p?.stop());

it('writes gathered rows within SINK_FLUSH_MS with no more traffic, and commits past them only once they are written', { timeout: 60_000 }, async () => {
  const admin = p.services.kafka.admin();
  await admin.connect();
  try {
    const topic = TOPICS.metricBatches.topic;
    const groupId = `${p.config.groupPrefix}-sink`;
    const committed = async () => {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Map(offsets!.partitions.map((x) => [x.partition, BigInt(x.offset)]));
    };
    const ends = async () => new Map((await admin.fetchTopicOffsets(topic)).map((x) => [x.partition, BigInt(x.high)]));
    const count = async () =>
      Number((await p.rows<{ n: string }>('SELECT count() AS n FROM metric_points WHERE tenant = {t:String}', { t: p.tenants.a }))[0]!.n);

    const now = Date.now();
    const points = Array.from({ length: 300 }, (_, i) => ({
      timestamp: now - 1000 + i,
      metric_name: 'gathered_ms',
      value: i,
      labels: { service: `svc-${i % 7}` },
    }));
    expect((await p.post('/v1/metrics', points)).status).toBe(202);
    const target = await ends(); // every record of this request is below these offsets
    const sent = performance.now();

    // Watch both until the group has committed past every record: at every look, a committed record's rows are in.
    const seen: { ms: number; rows: number; past: boolean }[] = [];
    for (;;) {
      const c = await committed();
      const rows = await count(); // after reading the commit: a commit seen implies the rows were written before it
      const past = [...target].every(([partition, end]) => (c.get(partition) ?? -1n) >= end);
      seen.push({ ms: Math.round(performance.now() - sent), rows, past });
      if (past) break;
      if (performance.now() - sent > 30_000) throw new Error(`never committed: ${JSON.stringify(seen.slice(-3))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const s of seen) if (s.past) expect(s.rows, `committed at ${s.ms} ms with ${s.rows} rows written`).toBe(points.length);
    expect(await count()).toBe(points.length);
    // Gathered, not written with its batch: nothing is written before its gathering is due, so the first look
    // (tens of ms after the 202) found none, and rows came all at once, with the flush.
    expect(seen[0]!.rows).toBe(0);
    expect(seen.every((s) => s.rows === 0 || s.rows === points.length)).toBe(true);
  } finally {
    await admin.disconnect();
  }
});
