import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { withDeadline } from '../../lib/deadline.ts';
import { describeError } from '../../lib/errors.ts';
import type { HealthCheck } from '../../lib/health.ts';
import type { Logger } from '../../lib/log.ts';
import type { Publisher } from '../../platform/publisher.ts';
import { DecodeError, type SchemaCatalog } from '../../schemas/catalog.ts';
import { TOPICS, type LogBatch, type MetricBatch, type SpanBatch } from '../../schemas/topics.ts';
import { spanCount } from '../../schemas/span-batch.ts';
import { DEFAULT_RUNTIME, type RuntimeConfig } from './config.ts';
import { onePerRecord, sendToDeadLetter, type Rejected } from './dead-letter.ts';
import { failureKind } from './failure.ts';
import { PartitionProgress, watchProgress } from './progress.ts';
import { SharedDecodes } from './shared-decodes.ts';
import { DeferredCommits } from './commits.ts';
import { backoffDelay } from '../../lib/backoff.ts';
import { everyInterval, serialQueue } from '../../lib/serial.ts';
import { sampleCount } from './metric-batches.ts';
import { entryCount } from './log-batches.ts';
import type { ProcessorTelemetry } from './telemetry.ts';

/**
 * Topics whose records carry many items (metric samples, log lines, spans): the
 * handler gets the record and loops over its items itself (see
 * metric-batches.ts, log-batches.ts); the counters count items, so figures
 * stay comparable whatever the batching.
 */
const ITEMS: Record<string, (value: unknown) => number> = {
  [TOPICS.metricBatches.topic]: (value) => sampleCount(value as MetricBatch),
  [TOPICS.logBatches.topic]: (value) => entryCount(value as LogBatch),
  [TOPICS.spans.topic]: (value) => spanCount(value as SpanBatch),
};
const itemsOf = (d: Decoded) => ITEMS[d.topic]?.(d.value) ?? 1;
/** The longest a stopping consumer waits for its last offset commit (see finalCommit). */
const FINAL_COMMIT_MS = 10_000;
/** Records of the many-item topics, decoded once for all the processors of this process that read them. */
const sharedDecodes = new SharedDecodes();

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
 * error means "try again later": the runtime rewinds the partition to its
 * last commit (see `onRewind`) and retries after a backoff.
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
export interface BatchContext {
  /**
   * The last attempt before the runtime gives up on this batch: a processor
   * that can tell the failing records apart (the sink, by halving) refuses
   * just those now, instead of the whole batch being dead-lettered.
   */
  finalAttempt: boolean;
}
export type BatchHandler = (batch: Decoded[], ctx: BatchContext) => Promise<BatchResult>;

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
  /**
   * The same for one partition, after a failed batch: the runtime rewinds it
   * to its last commit, so whatever the failed attempt half-built (open
   * windows, cached baselines) must go, and the replay builds it again.
   */
  onRewind?: (topic: string, partition: number) => void;
  /**
   * For a processor that keeps records past their batch (the sink gathers
   * rows into fewer, larger inserts): its batches commit only up to what is
   * written, and `run` is called every `everyMs` and once more (`final`)
   * before the consumer stops. It writes what is due, dead-letters what it
   * refused (through `deadLetter`, before it lets the records go: a commit
   * must never pass a record that is neither written nor dead-lettered), and
   * returns, per partition, the offset now safe to commit.
   */
  flush?: { everyMs: number; run(final: boolean, deadLetter: DeadLetter): Promise<FlushResult> };
  /** Releases what the processor opened itself, after its consumer stopped. */
  close?: () => Promise<void>;
}

/** Sends refused records of `topic` to the dead-letter topic; resolves once Kafka has them. */
export type DeadLetter = (topic: string, records: Rejected[]) => Promise<void>;

export interface FlushResult {
  commits: { topic: string; partition: number; offset: string }[];
}

export interface RunningProcessor {
  name: string;
  /** Readiness: fails while a partition is stalled. */
  check: HealthCheck;
  stop(): Promise<void>;
}

/**
 * The consume loop every processor shares: read a partition's batch, decode,
 * hand it over, dead-letter what was refused, and only then commit.
 *
 * A failed batch holds up its own partition and nothing else: that partition
 * is paused, rewound to its last commit and retried after a backoff, while
 * the consumer goes on fetching the others (kafkajs waits for every batch of
 * a fetch, so a batch retried in place stopped every partition, every topic
 * and so every tenant behind it). Transient failures (a dependency down) are
 * retried for as long as they last; any other failure at most
 * `maxAttempts` times, then the batch's records are dead-lettered with the
 * reason and the partition moves on. Nothing is committed past a record that
 * is neither written nor dead-lettered.
 */
export async function startProcessor(
  spec: ProcessorSpec,
  deps: {
    kafka: Kafka;
    catalog: SchemaCatalog;
    publisher: Publisher;
    log: Logger;
    telemetry: ProcessorTelemetry;
    runtime?: RuntimeConfig;
    fromBeginning?: boolean;
  },
): Promise<RunningProcessor> {
  const { kafka, catalog, publisher, telemetry } = deps;
  const cfg = deps.runtime ?? DEFAULT_RUNTIME;
  const log = deps.log.child({ processor: spec.name });
  const consumer: Consumer = kafka.consumer({
    groupId: spec.groupId,
    sessionTimeout: 30_000,
    heartbeatInterval: 3000,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxWaitTimeInMs: 200,
    retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 },
  });
  const progress = new PartitionProgress(spec.name, spec.groupId, telemetry, log, cfg);
  let stopping = false;
  /** Per partition: the offset of its last commit (sent, or pending in `commits`), where a failed batch rewinds to. */
  const lastCommit = new Map<string, string>();
  /** Per partition: failed attempts at its current position (all, and those not known to be transient). */
  const failures = new Map<string, { all: number; unknown: number }>();

  const commits = new DeferredCommits(consumer, cfg.commitEveryMs, log);
  /**
   * What is pending, sent while stopping, for at most FINAL_COMMIT_MS: with its
   * group coordinator gone (a broker down), kafkajs retries a commit for over a
   * minute, and a stop must not wait that out. What is not committed is read
   * again by the next owner, and counts once (rows are keyed by content).
   */
  const finalCommit = () =>
    withDeadline(commits.send(), FINAL_COMMIT_MS, `offset commit not acknowledged within ${FINAL_COMMIT_MS} ms`).catch((err: unknown) =>
      log.warn({ err: describeError(err) }, 'final offset commit not made; the next owner reads those records again'),
    );

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    commits.drop();
    lastCommit.clear();
    failures.clear();
    progress.assign(e.payload.memberAssignment);
    spec.onRebalance?.();
  });
  consumer.on(consumer.events.CRASH, (e) => log.error({ err: describeError(e.payload.error), restart: e.payload.restart }, 'consumer crashed'));

  const eachBatch = async ({ batch, heartbeat, pause, resolveOffset }: EachBatchPayload) => {
    const { topic, partition } = batch;
    const key = `${topic}/${partition}`;
    const labels = { processor: spec.name, topic };
    if (batch.messages.length === 0) return;
    // The first batch after an assignment starts where the group's commit is.
    if (!lastCommit.has(key)) lastCommit.set(key, batch.messages[0]!.offset);
    const failed = failures.get(key) ?? { all: 0, unknown: 0 };
    const last = batch.messages[batch.messages.length - 1]!;

    const commit = async (offset: string, metadata: string | null) => {
      resolveOffset(last.offset);
      // Never backwards: a flush may have committed further already (see spec.flush).
      const committed = lastCommit.get(key);
      if (committed === undefined || BigInt(offset) >= BigInt(committed)) {
        lastCommit.set(key, offset);
        // While stopping, at once: the consumer leaves the group after this batch, and a pending commit would be lost.
        await (stopping ? commits.add({ topic, partition, offset, metadata }).then(finalCommit) : commits.add({ topic, partition, offset, metadata }));
      }
      failures.delete(key);
      progress.processed(topic, partition, BigInt(last.offset) + 1n);
      await heartbeat();
    };

    try {
      const decoded: Decoded[] = [];
      const rejected: Rejected[] = [];
      for (const message of batch.messages) {
        try {
          if (!message.value) throw new DecodeError('empty message value (tombstone)');
          const value = message.value;
          decoded.push({
            topic,
            partition,
            offset: message.offset,
            value: ITEMS[topic] ? await sharedDecodes.get(topic, partition, message, () => catalog.decode(value)) : await catalog.decode(value),
            message,
          });
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err; // registry down: retried like any transient failure
          rejected.push({ message, partition, reason: `decode: ${err.message}` });
        }
      }

      let items = 0;
      for (const d of decoded) items += itemsOf(d);
      telemetry.received.inc(labels, items + rejected.length);
      const started = performance.now();
      const result = decoded.length ? await spec.handle(decoded, { finalAttempt: failed.unknown + 1 >= cfg.maxAttempts }) : { rejected: [] };
      telemetry.writeSeconds.observe(labels, (performance.now() - started) / 1000);

      const refused = [...rejected, ...result.rejected];
      await deadLetter(refused, labels);
      await commit(result.commitOffset ?? (BigInt(last.offset) + 1n).toString(), result.commitMetadata ?? null);
      const refusedOffsets = new Set(result.rejected.map((r) => r.message.offset));
      for (const d of decoded) if (refusedOffsets.has(d.offset)) items -= itemsOf(d);
      telemetry.written.inc(labels, items);
    } catch (err) {
      if (stopping) return; // the next owner reads it again from the last commit
      telemetry.errors.inc(labels);
      const kind = failureKind(err);
      failed.all++;
      if (kind === 'unknown') failed.unknown++;
      spec.onRewind?.(topic, partition);

      if (kind === 'unknown' && failed.unknown >= cfg.maxAttempts) {
        log.error({ topic, partition, attempts: failed.unknown, err: describeError(err) }, 'giving up on a batch: its records go to the dead-letter topic');
        const reason = `gave up after ${failed.unknown} attempts: ${describeError(err)}`;
        try {
          await deadLetter(
            batch.messages.map((message) => ({ message, partition, reason })),
            labels,
          );
          telemetry.gaveUp.inc(labels);
          await commit((BigInt(last.offset) + 1n).toString(), null);
          return;
        } catch (deadLetterErr) {
          log.warn({ topic, partition, err: describeError(deadLetterErr) }, 'could not dead-letter the batch; retrying it');
        }
      }

      failures.set(key, failed);
      const delay = Math.max(50, backoffDelay(failed.all - 1, { initialMs: 200, maxMs: cfg.maxBackoffMs }));
      log.warn(
        { topic, partition, attempt: failed.all, kind, retryInMs: Math.round(delay), err: describeError(err) },
        'batch failed; partition paused and rewound, others go on',
      );
      consumer.seek({ topic, partition, offset: lastCommit.get(key)! });
      const resume = pause();
      setTimeout(() => stopping || resume(), delay).unref();
    }
  };

  const deadLetter = async (all: Rejected[], labels: { processor: string; topic: string }) => {
    const refused = onePerRecord(all);
    if (refused.length === 0) return;
    await sendToDeadLetter(publisher, spec.name, labels.topic, refused);
    for (const r of refused) telemetry.deadLettered.inc({ ...labels, reason: r.reason.split(':')[0]! });
    log.warn(
      { topic: labels.topic, partition: refused[0]!.partition, count: refused.length, first: refused[0]!.reason },
      'records sent to the dead-letter topic',
    );
  };

  /** Runs spec.flush (never twice at once), dead-letters what it refused, and commits what it wrote on partitions still owned. */
  const flushes = serialQueue();
  const flush = (final: boolean) =>
    flushes.run(async () => {
      if (!spec.flush) return;
      try {
        const written = await spec.flush.run(final, (topic, records) => deadLetter(records, { processor: spec.name, topic }));
        const ahead = written.commits.filter((c) => {
          const committed = lastCommit.get(`${c.topic}/${c.partition}`);
          return progress.owns(c.topic, c.partition) && committed !== undefined && BigInt(c.offset) > BigInt(committed);
        });
        if (ahead.length === 0) return;
        for (const c of ahead) {
          lastCommit.set(`${c.topic}/${c.partition}`, c.offset);
          await commits.add({ ...c, metadata: null });
        }
      } catch (err) {
        log.warn({ err: describeError(err), final }, 'flush failed; its records stay uncommitted and are written by a later flush or read again');
      }
    });
  const flushTimer = spec.flush && everyInterval(spec.flush.everyMs, () => flush(false));

  if (deps.fromBeginning === false) await pinNewGroupToLatest(kafka, spec.groupId, spec.topics);
  // Started once the group has assigned partitions: a caller that produces right after gets its records read.
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics: spec.topics, fromBeginning: deps.fromBeginning ?? true });
  await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 2, eachBatch });
  await withDeadline(joined, 90_000, `${spec.name}: no partitions assigned within 90 s`);
  const watcher = watchProgress(kafka, progress, cfg, log);
  log.info({ topics: spec.topics, groupId: spec.groupId }, 'processor started');

  return {
    name: spec.name,
    check: progress.healthCheck(),
    async stop() {
      stopping = true;
      flushTimer?.stop();
      await watcher.stop();
      await flush(true); // what was gathered is written and committed while the partitions are still ours
      await finalCommit();
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
