import avro from 'avsc';
import type { Message } from 'kafkajs';
import { unavailable } from '../../lib/errors.ts';
import type { Publisher } from '../../platform/publisher.ts';
import { pointsOfSeries } from '../../schemas/metric-batch.ts';
import { partitionSpans, toSpanBatch } from '../../schemas/span-batch.ts';
import { TOPICS, type RecordKind, type RecordOf } from '../../schemas/topics.ts';

/**
 * A Publisher that keeps what it is given instead of sending it to Kafka, for
 * route tests with `app.request()`. It keeps the real one's promises that a
 * route relies on: a call is all or nothing (nothing is kept from a call that
 * fails), empty batches are not sent, every record must encode with its
 * topic's Avro schema (a record the schema refuses throws, as
 * `catalog.encode` does), and while "down" every call fails with the
 * retriable `unavailable` error the real one throws when Kafka does not
 * acknowledge (503, Retry-After 5).
 */
export interface StubPublisher extends Publisher {
  /** What was acknowledged, one entry per kind per call, in order. */
  readonly published: PublishedBatch[];
  /** Every record of one kind acknowledged so far. */
  records<K extends RecordKind>(kind: K): RecordOf<K>[];
  /** Raw sends (dead letters), as given. */
  readonly raw: { topic: string; messages: Message[] }[];
  /** From now on, Kafka does not acknowledge (true) or does again (false). */
  setDown(down: boolean): void;
}

export type PublishedBatch = { [K in RecordKind]: { kind: K; records: RecordOf<K>[] } }[RecordKind];

/** What the real publisher says when Kafka does not acknowledge (platform/publisher.ts). */
export const KAFKA_DOWN_RETRY_AFTER = 5;

const avroTypes = new Map<RecordKind, avro.Type>();
const avroTypeOf = (kind: RecordKind) => {
  let type = avroTypes.get(kind);
  if (!type) avroTypes.set(kind, (type = avro.Type.forSchema(JSON.parse(TOPICS[kind].schema))));
  return type;
};

export function stubPublisher(): StubPublisher {
  const published: PublishedBatch[] = [];
  const raw: StubPublisher['raw'] = [];
  let down = false;
  const refuseWhileDown = () => {
    if (down) throw unavailable('Kafka did not acknowledge the batch: the stub publisher is down', undefined, KAFKA_DOWN_RETRY_AFTER);
  };

  const stub: StubPublisher = {
    published,
    raw,
    get connected() {
      return !down;
    },
    setDown(value) {
      down = value;
    },
    records<K extends RecordKind>(kind: K) {
      return published.filter((b) => b.kind === kind).flatMap((b) => b.records as RecordOf<K>[]);
    },
    async publish(kind, records) {
      await stub.publishAll([{ kind, records } as PublishedBatch]);
    },
    async publishAll(batches) {
      // Metric series are kept as points, one per sample, as route tests read them; spans as one batch record per tenant.
      const asRecords = batches.map((b): PublishedBatch => {
        if ('series' in b) return { kind: 'metrics', records: pointsOfSeries(b.series) };
        if ('spans' in b) return { kind: 'spans', records: partitionSpans(b.spans, 1).map((g) => toSpanBatch(g.spans)) };
        return b;
      });
      const nonEmpty = asRecords.filter((b) => b.records.length > 0);
      if (nonEmpty.length === 0) return;
      for (const { kind, records } of nonEmpty) for (const r of records) avroTypeOf(kind).toBuffer(r); // throws as encoding would
      refuseWhileDown();
      // Copies: a route that changed a record after its ack must not change what "Kafka" holds.
      for (const b of nonEmpty) published.push(structuredClone(b));
    },
    async sendRaw(topic, messages) {
      if (messages.length === 0) return;
      refuseWhileDown();
      raw.push({ topic, messages });
    },
    async close() {},
  };
  return stub;
}
