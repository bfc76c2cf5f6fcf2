import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf, TOPICS, type LogEntry } from '../schemas/topics.ts';
import { lokiJson } from './helpers/ingest-bodies.ts';
import { eventually, startTestPipeline, topicEnd, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Log lines as batch records on the real stack: a request's lines are one
 * Kafka record per partition (each line was a record of its own before, so
 * the first test's topic grew by 600, not by the partitions touched), the
 * sink writes every line of them, a retried push is the same rows, and the
 * sink still drains autopilot.logs, what earlier versions wrote.
 */
let p: TestPipeline;
const now = Date.now();

beforeAll(async () => {
  p = await startTestPipeline('logbatch', { processors: ['sink'] });
});
afterAll(async () => p?.stop());

const count = async (where: string) =>
  Number((await p.rows<{ c: string }>(`SELECT count() AS c FROM log_entries FINAL WHERE tenant = {t:String} AND ${where}`, { t: p.tenants.a }))[0]!.c);

/** Sends a request, then waits until the sink has committed past every log batch it wrote (it commits a record only after its rows are in). */
async function sentAndWritten(send: () => Promise<Response>, status: number): Promise<void> {
  const admin = p.services.kafka.admin();
  await admin.connect();
  try {
    const topic = TOPICS.logBatches.topic;
    const before = await admin.fetchTopicOffsets(topic);
    expect((await send()).status).toBe(status);
    const written = (await admin.fetchTopicOffsets(topic)).filter((e) => e.high !== before.find((b) => b.partition === e.partition)?.high);
    expect(written.length).toBeGreaterThan(0);
    await eventually(
      async () => (await admin.fetchOffsets({ groupId: `${p.config.groupPrefix}-sink`, topics: [topic] }))[0]!.partitions,
      (committed) => written.every((e) => BigInt(committed.find((c) => c.partition === e.partition)?.offset ?? '-1') >= BigInt(e.high)),
    );
  } finally {
    await admin.disconnect();
  }
}

describe('log batches', () => {
  const services = ['cart', 'checkout', 'search', 'auth', 'mail', 'media'];
  // 6 services × 2 pods × 50 lines, pushed as Loki streams.
  const streams = services.flatMap((service) =>
    ['1', '2'].map((pod) => ({
      labels: { service_name: service, pod: `${service}-${pod}`, level: pod === '1' ? 'info' : 'error' },
      lines: Array.from({ length: 50 }, (_, i) => ({ ms: now - 60_000 + i * 100, line: `${service} line ${i}` })),
    })),
  );

  it('a Loki push is one record per partition its services are on, and every line lands with its stream', async () => {
    const partitions = p.config.topicPartitions;
    const touched = new Set(services.map((s) => partitionOf(`${p.tenants.a}\u0000${s}`, partitions))).size;
    const before = await topicEnd(p.services.kafka, TOPICS.logBatches.topic);
    const res = await p.post('/loki/api/v1/push', lokiJson(streams));
    expect(res.status, await res.clone().text()).toBe(204);
    expect(await topicEnd(p.services.kafka, TOPICS.logBatches.topic)).toBe(before + touched);

    await eventually(
      () => count('1'),
      (c) => c === 600,
    );
    const rows = await p.rows<{ service: string; level: string; pods: string[]; n: number }>(
      `SELECT service, level, groupUniqArray(labels['pod']) AS pods, count() AS n FROM log_entries FINAL
       WHERE tenant = {t:String} GROUP BY service, level ORDER BY service, level`,
      { t: p.tenants.a },
    );
    expect(rows).toEqual(
      [...services].sort().flatMap((s) => [
        { service: s, level: 'error', pods: [`${s}-2`], n: 50 },
        { service: s, level: 'info', pods: [`${s}-1`], n: 50 },
      ]),
    );
  });

  it('a push sent again (new offsets, the same lines) is the same rows', async () => {
    await sentAndWritten(() => p.post('/loki/api/v1/push', lokiJson(streams.slice(0, 2))), 204);
    expect(await count(`service = 'cart'`)).toBe(100);
    expect(await count('1')).toBe(600);
  });

  it('the sink still writes records of autopilot.logs, one line each, as earlier versions wrote them', async () => {
    const old: LogEntry = { tenant: p.tenants.a, timestamp: now, level: 'error', message: 'from an older gateway', service: 'legacy', labels: { pod: 'l-1' } };
    const producer = p.services.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: TOPICS.logs.topic, acks: -1, messages: [{ key: TOPICS.logs.key(old), value: p.services.catalog.encode('logs', old) }] });
    await producer.disconnect();
    const rows = await eventually(
      () =>
        p.rows<{ message: string; level: string; pod: string }>(
          `SELECT message, level, labels['pod'] AS pod FROM log_entries FINAL WHERE tenant = {t:String} AND service = 'legacy'`,
          { t: p.tenants.a },
        ),
      (r) => r.length === 1,
    );
    expect(rows).toEqual([{ message: 'from an older gateway', level: 'error', pod: 'l-1' }]);
  });
});
