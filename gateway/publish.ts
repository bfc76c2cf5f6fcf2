import type { Kafka, Producer } from 'kafkajs';
import { withDeadline } from '../lib/deadline.ts';
import { keyPartitioner } from '../lib/kafka.ts';
import { describeError, unavailable } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { SchemaCatalog } from '../schemas/catalog.ts';
import { TOPICS, type RecordKind, type RecordOf } from '../schemas/topics.ts';

/**
 * The gateway's only Kafka producer. `publish` resolves once Kafka has
 * acknowledged every record (acks=all, idempotent producer), and only then may
 * the gateway answer 2xx. Any failure is a retriable `unavailable` error (503).
 */
export interface Publisher {
  publish<K extends RecordKind>(kind: K, records: RecordOf<K>[]): Promise<void>;
  /** Several kinds in one produce request (one request per broker), acknowledged together. */
  publishAll(batches: { [K in RecordKind]: { kind: K; records: RecordOf<K>[] } }[RecordKind][]): Promise<void>;
  readonly connected: boolean;
  close(): Promise<void>;
}

export interface PublisherOptions {
  /** Longest a request waits for Kafka before it gets a 503. */
  timeoutMs?: number;
  onProduced?: (kind: RecordKind, count: number, seconds: number) => void;
}

export async function createPublisher(kafka: Kafka, catalog: SchemaCatalog, log: Logger, opts: PublisherOptions = {}): Promise<Publisher> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 5, // the most Kafka keeps ordered for an idempotent producer
    createPartitioner: keyPartitioner,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  let connected = false;
  producer.on(producer.events.CONNECT, () => (connected = true));
  producer.on(producer.events.DISCONNECT, () => (connected = false));
  await producer.connect().catch((err) => log.warn({ err: describeError(err) }, 'Kafka not reachable yet; will retry per request'));

  const publisher: Publisher = {
    get connected() {
      return connected;
    },

    async publish(kind, records) {
      await publisher.publishAll([{ kind, records } as Parameters<Publisher['publishAll']>[0][number]]);
    },

    async publishAll(batches) {
      const nonEmpty = batches.filter((b) => b.records.length > 0);
      if (nonEmpty.length === 0) return;
      // Encoding first: a record the schema refuses fails the whole request before anything is sent.
      const topicMessages = nonEmpty.map(({ kind, records }) => {
        const spec = TOPICS[kind];
        return { topic: spec.topic, messages: records.map((r) => ({ key: spec.key(r as never), value: catalog.encode(kind, r) })) };
      });
      const started = performance.now();
      try {
        await withDeadline(
          Promise.all(produceRequests(topicMessages).map((request) => producer.sendBatch({ acks: -1, topicMessages: request }))),
          timeoutMs,
          `no acknowledgement from Kafka within ${timeoutMs} ms`,
        );
      } catch (err) {
        throw unavailable(`Kafka did not acknowledge the batch: ${describeError(err)}`, err, 5);
      }
      const seconds = (performance.now() - started) / 1000;
      for (const { kind, records } of nonEmpty) opts.onProduced?.(kind, records.length, seconds);
    },

    async close() {
      await producer.disconnect();
    },
  };
  return publisher;
}

/**
 * Kafka refuses a record batch over its message size limit (1 MB by default),
 * and kafkajs puts everything one send has for a partition into one batch:
 * a large remote-write request got a 503 on every retry, forever (found by
 * the remote-write benchmark). So a request's records are cut into sends of
 * at most CHUNK_BYTES, each naming a topic once (kafkajs keeps one entry per
 * topic per send). Smaller sends also keep kafkajs's per-partition grouping,
 * which copies the partition's list for every message, from growing
 * quadratically with the request.
 */
const CHUNK_BYTES = 256 * 1024;

type TopicMessages = { topic: string; messages: { key: string; value: Buffer }[] };

export function produceRequests(topicMessages: TopicMessages[]): TopicMessages[][] {
  const requests: TopicMessages[][] = [];
  for (const { topic, messages } of topicMessages) {
    let chunk: TopicMessages['messages'] = [];
    let bytes = 0;
    let index = 0; // the n-th chunk of each topic goes into the n-th request
    const flush = () => {
      (requests[index++] ??= []).push({ topic, messages: chunk });
      chunk = [];
      bytes = 0;
    };
    for (const m of messages) {
      const size = m.value.length + m.key.length + 64; // + record overhead
      if (bytes + size > CHUNK_BYTES && chunk.length) flush();
      chunk.push(m);
      bytes += size;
    }
    if (chunk.length) flush();
  }
  return requests;
}
