import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { withDeadline } from '../../lib/deadline.ts';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { DecodeError, type SchemaCatalog } from '../../schemas/catalog.ts';
import { sendToDeadLetter, type Rejected } from './dead-letter.ts';
import { retryUntilDone } from './retry.ts';
import type { ProcessorTelemetry } from './telemetry.ts';

/** A Kafka record after Avro decoding, with where it came from. */
export interface Decoded<T = unknown> {
  topic: string;
  partition: number;
  offset: string;
  value: T;
  message: KafkaMessage;
}

/**
 * What a processor does with one partition's batch. It returns the records it
 * refuses for good (bad data); those go to the dead-letter topic. A thrown
 * error means "try the whole batch again later".
 *
 * By default the offset after the batch is committed. A processor holding
 * state that still needs earlier records (open windows) names an earlier
 * `commitOffset`, and may attach `commitMetadata`: Kafka stores it with the
 * offset, atomically, so a checkpoint never disagrees with its position.
 */
export interface BatchResult {
  rejected: Rejected[];
  commitOffset?: string;
  commitMetadata?: string;
}
export type BatchHandler = (batch: Decoded[]) => Promise<BatchResult>;

export interface ProcessorSpec {
  name: string;
  groupId: string;
  topics: string[];
  handle: BatchHandler;
  /**
   * After a rebalance kafkajs resumes every assigned partition from its
   * committed offset: in-memory state built past that offset must go, and is
   * rebuilt by the replay.
   */
  onRebalance?: () => void;
  /** Releases what the processor opened itself, after its consumer stopped. */
  close?: () => Promise<void>;
}

export interface RunningProcessor {
  name: string;
  stop(): Promise<void>;
}

/**
 * The consume loop every processor shares: read a partition's batch, decode,
 * hand it over, dead-letter what was refused, and only then commit. While a
 * write keeps failing the partition's topic is paused and the batch retried
 * with backoff; nothing is committed past a record that is not durable.
 */
export async function startProcessor(
  spec: ProcessorSpec,
  deps: { kafka: Kafka; catalog: SchemaCatalog; producer: Producer; log: Logger; telemetry: ProcessorTelemetry; fromBeginning?: boolean },
): Promise<RunningProcessor> {
  const { kafka, catalog, producer, telemetry } = deps;
  const log = deps.log.child({ processor: spec.name });
  const consumer: Consumer = kafka.consumer({
    groupId: spec.groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxWaitTimeInMs: 200,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 },
  });
  let stopping = false;

  consumer.on(consumer.events.GROUP_JOIN, () => spec.onRebalance?.());
  consumer.on(consumer.events.CRASH, (e) => log.error({ err: describeError(e.payload.error), restart: e.payload.restart }, 'consumer crashed'));

  const eachBatch = async ({ batch, heartbeat, pause, isRunning, isStale, resolveOffset }: EachBatchPayload) => {
    const { topic, partition } = batch;
    const labels = { processor: spec.name, topic };
    if (batch.messages.length === 0) return;
    telemetry.received.inc(labels, batch.messages.length);

    const decoded: Decoded[] = [];
    const rejected: Rejected[] = [];
    for (const message of batch.messages) {
      try {
        if (!message.value) throw new DecodeError('empty message value (tombstone)');
        decoded.push({ topic, partition, offset: message.offset, value: await catalog.decode(message.value), message });
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err; // registry down: kafkajs retries the batch
        rejected.push({ message, partition, reason: `decode: ${err.message}` });
      }
    }

    let resume: (() => void) | undefined;
    const result: BatchResult = await retryUntilDone(
      async () => {
        const started = performance.now();
        const out = decoded.length ? await spec.handle(decoded) : { rejected: [] };
        telemetry.writeSeconds.observe(labels, (performance.now() - started) / 1000);
        return out;
      },
      {
        shouldStop: () => stopping || !isRunning() || isStale(),
        onError: async (err, attempt) => {
          telemetry.errors.inc(labels);
          log.warn({ topic, partition, attempt, err: describeError(err) }, 'write failed; partition paused, retrying');
          resume ??= pause();
          await heartbeat().catch(() => undefined);
        },
      },
    );
    resume?.();

    const refused = [...rejected, ...result.rejected];
    if (refused.length) {
      await sendToDeadLetter(producer, spec.name, topic, refused);
      for (const r of refused) telemetry.deadLettered.inc({ ...labels, reason: r.reason.split(':')[0]! });
      log.warn({ topic, partition, count: refused.length, first: refused[0]!.reason }, 'records sent to the dead-letter topic');
    }

    const last = batch.messages[batch.messages.length - 1]!;
    resolveOffset(last.offset);
    const offset = result.commitOffset ?? (BigInt(last.offset) + 1n).toString();
    await consumer.commitOffsets([{ topic, partition, offset, metadata: result.commitMetadata ?? null }]);
    telemetry.written.inc(labels, decoded.length - result.rejected.length);
    const lag = Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n);
    telemetry.lag.set({ ...labels, partition: String(partition) }, Math.max(0, lag));
    await heartbeat();
  };

  if (deps.fromBeginning === false) await pinNewGroupToLatest(kafka, spec.groupId, spec.topics);
  // Started once the group has assigned partitions: a caller that produces right after gets its records read.
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics: spec.topics, fromBeginning: deps.fromBeginning ?? true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 2, eachBatch });
  await withDeadline(joined, 90_000, `${spec.name}: no partitions assigned within 90 s`);
  log.info({ topics: spec.topics, groupId: spec.groupId }, 'processor started');

  return {
    name: spec.name,
    async stop() {
      stopping = true;
      await consumer.disconnect(); // waits for the batch in hand: it is written and committed, or left for the next owner
      await spec.close?.();
      log.info('processor stopped');
    },
  };
}

/**
 * A new group that starts at the end of its topics commits that end at once.
 * Otherwise "latest" is decided again at every start until the first commit,
 * and a topic that got records while the processor was down (but none before)
 * would have them skipped (found by the processors crash test).
 *
 * Explicit offsets: kafkajs's resetOffsets(latest) stores the "latest"
 * sentinel, which pins nothing. And one short-lived member for all topics,
 * as kafkajs's admin.setOffsets does for one: setOffsets joins the group
 * and waits out a fetch (5 s) per topic, which made the sink (nine topics)
 * take 45 s to start.
 */
async function pinNewGroupToLatest(kafka: Kafka, groupId: string, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const pins: { topic: string; partition: number; offset: string }[] = [];
  try {
    for (const topic of topics) {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      if (!committed?.partitions.every((p) => p.offset === '-1')) continue;
      const ends = await admin.fetchTopicOffsets(topic);
      pins.push(...ends.map((p) => ({ topic, partition: p.partition, offset: p.high })));
    }
  } finally {
    await admin.disconnect();
  }
  if (pins.length === 0) return;
  const pinned = [...new Set(pins.map((p) => p.topic))];
  const member = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await member.connect();
  try {
    await member.subscribe({ topics: pinned, fromBeginning: true });
    // Seeks are committed by the member; the first fetch after them means they are in.
    await new Promise<void>((resolve, reject) => {
      member.on(member.events.FETCH, () => void member.stop().then(resolve, reject));
      member.run({ eachBatchAutoResolve: false, eachBatch: async () => undefined }).catch(reject);
      member.pause(pinned.map((topic) => ({ topic })));
      for (const p of pins) member.seek(p);
    });
  } finally {
    await member.disconnect();
  }
}
