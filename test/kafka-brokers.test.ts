import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigResourceTypes } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureTopics } from '../platform/kafka.ts';
import { TOPICS } from '../schemas/topics.ts';
import { startKafkaCluster, type KafkaCluster } from './helpers/kafka-cluster.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Kafka as users run it: three brokers (`autopilot stack up --brokers 3`),
 * Autopilot's topics replicated three times with min.insync.replicas 2. The
 * real gateway and sink run on it under steady load; one broker is SIGKILLed
 * mid-load. Every acknowledged sample is in ClickHouse exactly once, the
 * gateway answers 503 only while the dead broker's leaders move (a bounded
 * window) and 2xx after; with a second broker down it refuses with 503,
 * since two replicas can no longer take a write.
 *
 * On the code before `--brokers` there was no cluster to start; with Kafka's
 * own defaults (one replica, min.insync.replicas 1) the dead broker's
 * partitions stay leaderless, so the 503s never end, and the
 * two-brokers-down request is a 202: both fail here.
 */
const SENDERS = 3;
const PER_REQUEST = 100;
const SERIES = 12;
/** Load before the crash, and load after the window that must be all 2xx. */
const STEADY_MS = 4000;
/**
 * The bound on the 503 window and on the longest wait for a 2xx: a SIGKILLed
 * broker is noticed when its session with the controller lapses
 * (broker.session.timeout.ms, Kafka's default 9 s), which then moves its
 * leaders and drops it from every ISR; the gateway's client retries for ~3 s
 * per request on top.
 */
const WINDOW_BOUND_MS = 15_000;

let cluster: KafkaCluster;
let p: TestPipeline;

beforeAll(async () => {
  cluster = await startKafkaCluster(3, (msg) => process.stderr.write(`[cluster] ${msg}\n`));
  p = await startTestPipeline('brokers', {
    processors: ['sink'],
    // A fresh cluster: the sink reads its topic from the start, whenever it joins.
    env: { KAFKA_BROKERS: cluster.brokers, AUTOPILOT_NEW_GROUP_START: 'earliest' },
  });
}, 240_000);

afterAll(async () => {
  await p?.stop();
  await cluster?.down();
}, 120_000);

const TOPIC = TOPICS.metricBatches.topic;

async function partitions(topic = TOPIC) {
  const admin = p.services.kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions;
  } finally {
    await admin.disconnect();
  }
}

async function minInsync(topic: string): Promise<string | undefined> {
  const admin = p.services.kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
    });
    return resources[0]!.configEntries[0]?.configValue;
  } finally {
    await admin.disconnect();
  }
}

it("creates Autopilot's topics with the cluster's replication (3, all in sync, min.insync.replicas 2), or the configured one", async () => {
  const parts = await partitions();
  expect(parts).toHaveLength(p.config.topicPartitions);
  for (const part of parts) {
    expect([...part.replicas].sort()).toEqual([1, 2, 3]);
    expect([...part.isr].sort()).toEqual([1, 2, 3]);
  }
  expect(await minInsync(TOPIC)).toBe('2');

  // AUTOPILOT_TOPIC_REPLICATION_FACTOR / _MIN_INSYNC_REPLICAS, when set, win over the cluster's defaults.
  const topic = `kafka-brokers.configured-${p.tenants.a}`;
  await ensureTopics(p.services.kafka, 2, { factor: 2, minInsync: 1 }, [topic]);
  const configured = await partitions(topic);
  expect(configured.map((part) => part.replicas.length)).toEqual([2, 2]);
  expect(await minInsync(topic)).toBe('1');
});

interface Answer {
  sentAt: number;
  at: number;
  status: number;
  retryAfter: string | null;
}

/**
 * Senders posting samples with ids never used before (value = id, one
 * timestamp per id), each request retried after a non-2xx until it is
 * acknowledged, as Prometheus retries a 5xx: so every sample sent ends up
 * acknowledged, and ClickHouse must hold exactly that set.
 */
function steadyLoad(pipeline: TestPipeline) {
  const base = Date.now() - 10 * 60_000;
  const acknowledged: number[] = [];
  const answers: Answer[] = [];
  let nextId = 0;
  let stopping = false;
  const sender = async () => {
    while (!stopping) {
      const ids = Array.from({ length: PER_REQUEST }, () => nextId++);
      const body = ids.map((id) => ({ timestamp: base + id, metric_name: 'brokers_test', value: id, labels: { service: `svc-${id % SERIES}` } }));
      for (;;) {
        const sentAt = Date.now();
        const res = await pipeline.post('/v1/metrics', body);
        await res.arrayBuffer();
        answers.push({ sentAt, at: Date.now(), status: res.status, retryAfter: res.headers.get('retry-after') });
        if (res.status >= 200 && res.status < 300) break;
        await sleep(100);
      }
      acknowledged.push(...ids);
      await sleep(20);
    }
  };
  const running = Promise.all(Array.from({ length: SENDERS }, sender));
  return {
    acknowledged,
    answers,
    /** Lets every sender finish the request in hand (acknowledged, after retries), then resolves. */
    stop: async () => {
      stopping = true;
      await running;
    },
  };
}

it('a broker SIGKILLed under load: every acknowledged sample stored once; 503 only while its leaders move', { timeout: 240_000 }, async () => {
  const load = steadyLoad(p);
  await sleep(STEADY_MS);
  const before = load.answers.length;
  expect(load.answers.every((a) => a.status === 202)).toBe(true);

  const killedAt = Date.now();
  await cluster.kill(3);
  await sleep(WINDOW_BOUND_MS + STEADY_MS);
  await load.stop();

  const afterKill = load.answers.slice(before);
  const refused = afterKill.filter((a) => a.status !== 202);
  const window = refused.length ? refused.at(-1)!.at - killedAt : 0;
  // The longest the gateway acknowledged nothing: requests in flight wait until the ISR drops the dead broker.
  const acks = afterKill.filter((a) => a.status === 202).map((a) => a.at);
  const stall = Math.max(...[killedAt, ...acks].map((t, i, all) => (i ? t - all[i - 1]! : 0)));
  const late = afterKill.filter((a) => a.sentAt > killedAt + WINDOW_BOUND_MS);
  process.stderr.write(
    `[kafka-brokers] kill→last 503 ${window} ms, longest without a 2xx ${stall} ms; requests before the kill ${before}, after ${afterKill.length} (${refused.length} refused)\n`,
  );

  // Refusals are 503s with Retry-After, only inside the window; after it, two live replicas carry every write.
  for (const a of refused) {
    expect(a.status).toBe(503);
    expect(Number(a.retryAfter)).toBeGreaterThan(0);
  }
  expect(window).toBeLessThan(WINDOW_BOUND_MS);
  expect(stall).toBeLessThan(WINDOW_BOUND_MS);
  expect(late.length).toBeGreaterThan(SENDERS);
  expect(late.filter((a) => a.status !== 202)).toEqual([]);

  // ClickHouse holds exactly the acknowledged samples, each once (content-keyed rows collapse a retried request's copy).
  const acknowledged = load.acknowledged.length;
  const tenant = p.tenants.a;
  // Waited for, not asserted: on a shortfall the comparison below names what is missing.
  const waitStarted = performance.now();
  const figures = await eventually(
    async () =>
      (
        await p.rows<{ stored: string; raw: string }>(
          `SELECT (SELECT count() FROM metric_points FINAL WHERE tenant = {t:String}) AS stored,
                  (SELECT count() FROM metric_points WHERE tenant = {t:String}) AS raw`,
          { t: tenant },
        )
      )[0]!,
    (r) => Number(r.stored) >= acknowledged,
    120_000,
  ).catch(() => ({ stored: 'short', raw: '?' }));
  process.stderr.write(`[kafka-brokers] all acknowledged samples stored ${Math.round(performance.now() - waitStarted)} ms after the load ended\n`);
  const stored = (await p.rows<{ value: number }>('SELECT value FROM metric_points FINAL WHERE tenant = {t:String}', { t: tenant })).map((r) => r.value);
  const storedIds = new Set(stored);
  process.stderr.write(`[kafka-brokers] samples acknowledged ${acknowledged}, stored ${stored.length} (${figures.raw} raw rows before collapsing)\n`);
  // Samples missing here have so far been kafkajs 2.2.4's (the gateway's producer), not the sink's: a produce
  // retried after a leader moved skips partitions that moved to a broker that had answered the first attempt,
  // and its idempotent sequence numbers are rewound after partial or ambiguous failures, so Kafka takes a later
  // record for a duplicate and acknowledges it unwritten. The records were absent from the topic itself.
  expect(
    load.acknowledged.filter((id) => !storedIds.has(id)),
    'acknowledged samples missing from ClickHouse',
  ).toEqual([]);
  expect(stored.length).toBe(acknowledged);
  expect(storedIds.size).toBe(acknowledged);
});

it('two brokers down: min.insync.replicas 2 cannot be met, so 503 with Retry-After, never 2xx', async () => {
  await cluster.stop(2);
  // The controlled shutdown left every partition led by broker 1 with itself alone in sync: up, but one replica short.
  const parts = await eventually(
    () => partitions(),
    (ps) => ps.every((part) => part.leader === 1 && part.isr.length === 1),
    30_000,
  );
  expect(parts.map((part) => part.isr)).toEqual(parts.map(() => [1]));

  const res = await p.post('/v1/metrics', [{ timestamp: Date.now(), metric_name: 'brokers_test', value: -1, labels: { service: 'svc-0' } }]);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(res.status).toBe(503);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(body.error.code).toBe('unavailable');
  process.stderr.write(`[kafka-brokers] two brokers down: ${res.status} ${body.error.message}\n`);
}, 60_000);
