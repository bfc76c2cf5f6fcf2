import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, Kafka, logLevel, type ICustomPartitioner, type LogEntry as KafkaLogEntry } from 'kafkajs';
import { DEAD_LETTER_TOPIC, partitionOf, TOPICS } from '../schemas/topics.ts';
import type { Logger } from '../lib/log.ts';

/**
 * Warnings kafkajs prints on every start that say nothing about this run: the
 * partitioner notice (we pass the partitioner explicitly), and the note on
 * bounded retries for idempotent producers (bounded on purpose: a request
 * waiting on a dead broker gets a 503, it does not hang).
 */
const QUIET = ['KafkaJS v2.0.0 switched default partitioner', 'Limiting retries for the idempotent producer'];

/** One Kafka client factory, so every component logs kafkajs through pino and names itself the same way. */
export function createKafka(brokers: string[], clientId: string, log: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    // Short retries: callers decide what a failure means (503 at the gateway, pause in processors).
    retry: { retries: 4, initialRetryTime: 200, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: KafkaLogEntry) => {
      const { message, ...rest } = entry.log;
      if (QUIET.some((q) => message.startsWith(q))) return;
      const fields = { kafka: entry.namespace, ...rest };
      if (entry.level <= logLevel.ERROR) log.error(fields, message);
      else log.warn(fields, message);
    },
  });
}

const ALL_TOPICS = [...Object.values(TOPICS).map((t) => t.topic), DEAD_LETTER_TOPIC];

/**
 * Creates the topics Autopilot owns; existing ones are left as they are.
 * Replication unset (`{}`) is the cluster's default.replication.factor and
 * min.insync.replicas (-1 and no topic config: Kafka fills them in).
 */
export async function ensureTopics(
  kafka: Kafka,
  partitions: number,
  replication: { factor?: number; minInsync?: number } = {},
  topics = ALL_TOPICS,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    const configEntries = replication.minInsync === undefined ? [] : [{ name: 'min.insync.replicas', value: String(replication.minInsync) }];
    await admin.createTopics({
      waitForLeaders: false, // kafkajs's wait gives up on a broker that has not heard of the topic yet: see waitForLeaders
      topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: replication.factor ?? -1, configEntries })),
    });
    await waitForLeaders(admin, missing);
  } finally {
    await admin.disconnect();
  }
}

/** What a broker answers about a topic whose creation has not reached it yet, or whose leaders are being elected. */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

/** The error or, past kafkajs's own retries (KafkaJSNumberOfRetriesExceeded), its cause. */
const isNotYet = (err: unknown): boolean => {
  const e = err as { type?: string; cause?: { type?: string } };
  return NOT_YET.has(e.type ?? e.cause?.type ?? '');
};

/**
 * Waits until every partition of `topics` has a leader. kafkajs's own wait
 * (createTopics' waitForLeaders) retries LEADER_NOT_AVAILABLE only, but on a
 * cluster of several brokers one not yet told of the new topic answers
 * UNKNOWN_TOPIC_OR_PARTITION for a moment ("This server does not host this
 * topic-partition": test/kafka-brokers.test.ts failed on it in one run of
 * several). Both mean "not yet".
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (!isNotYet(err) || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * Every Autopilot producer places records with `partitionOf(key)`, so a
 * service's logs, deployments, anomalies and incidents share a partition
 * number across topics, whichever process wrote them. A record that names
 * its partition keeps it: a metric batch holds the series of one partition.
 */
export const keyPartitioner: ICustomPartitioner =
  () =>
  ({ partitionMetadata, message }) =>
    message.partition ?? partitionOf(String(message.key ?? ''), partitionMetadata.length);
