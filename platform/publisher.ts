import type { Kafka, Message, Producer } from 'kafkajs';
import { withDeadline } from '../lib/deadline.ts';
import { keyPartitioner } from './kafka.ts';
import { AutopilotError, describeError, unavailable } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { SchemaCatalog } from '../schemas/catalog.ts';
import { halve, partitionGroups, seriesOf, type SeriesEntry } from '../schemas/metric-batch.ts';
import { writeMetricBatch } from '../schemas/metric-batch-writer.ts';
import { cutBySize, halveStreams, partitionStreams, streamsOf, toLogBatch, type LogStream } from '../schemas/log-batch.ts';
import { halveRollupBatch, rollupBatchesOf } from '../schemas/rollup-batch.ts';
import { cutBySize as cutSpansBySize, halveSpans, partitionSpans, spanCount, spansOf, toSpanBatch } from '../schemas/span-batch.ts';
import {
  partitionOf,
  TOPICS,
  type LogBatch,
  type MetricRollup,
  type RecordKind,
  type RecordOf,
  type RollupBatch,
  type Span,
  type SpanBatch,
} from '../schemas/topics.ts';

/**
 * The one Kafka producer of a process, gateway or processors. `publish` resolves once Kafka has
 * acknowledged every record (acks=all, one send per partition), and only then may
 * the gateway answer 2xx. A record Kafka could never take (over its message
 * size limit) refuses the whole call with `payload_too_large` (413) before
 * anything is sent; any other failure is a retriable `unavailable` error (503).
 */
export interface Publisher {
  publish<K extends RecordKind>(kind: K, records: RecordOf<K>[]): Promise<void>;
  /** Several kinds at once, acknowledged together. */
  publishAll(batches: PublishBatch[]): Promise<void>;
  /**
   * Records already in wire format, sent as they are (dead letters: the bytes
   * as they came, with headers), cut into sends below Kafka's limit like
   * `publishAll`'s, acknowledged by all replicas. Kafka's own error on failure.
   */
  sendRaw(topic: string, messages: Message[]): Promise<void>;
  readonly connected: boolean;
  close(): Promise<void>;
}

/**
 * Records of one kind; metric samples may come already grouped by series
 * (schemas/metric-batch.ts), as the ingest routes build them, so that nothing
 * is hashed or grouped again per sample.
 */
export type PublishBatch = { [K in RecordKind]: { kind: K; records: RecordOf<K>[] } }[RecordKind] | MetricSeriesBatch | SpanList;
export interface MetricSeriesBatch {
  kind: 'metrics';
  series: readonly SeriesEntry[];
}
/** Spans one by one (as gateway/protocols/otlp/traces.ts makes them), for the publisher to batch by trace partition. */
export interface SpanList {
  kind: 'spans';
  spans: readonly Span[];
}

/** How many records (samples, for series; spans, for spans) a batch holds. */
export function batchSize(b: PublishBatch): number {
  if ('spans' in b) return b.spans.length;
  if (b.kind === 'spans') return b.records.reduce((n, r) => n + spanCount(r), 0);
  if (!('series' in b)) return b.records.length;
  let samples = 0;
  for (const s of b.series) samples += s.timestamps.length;
  return samples;
}

export interface PublisherOptions {
  /** Longest a request waits for Kafka before it gets a 503. */
  timeoutMs?: number;
  onProduced?: (kind: RecordKind, count: number, seconds: number) => void;
}

export async function createPublisher(kafka: Kafka, catalog: SchemaCatalog, log: Logger, opts: PublisherOptions = {}): Promise<Publisher> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  /*
   * Not idempotent, and every send is one topic-partition: on a broker
   * failover kafkajs 2.2.4 acknowledged records it never wrote, both ways
   * (test/kafka-brokers.test.ts, three brokers, one SIGKILLed under load).
   * A send spanning partitions, once retried after a leader moved, skipped
   * the partitions whose new leader had answered its first attempt. And the
   * idempotent producer rolls its sequence numbers back after a partly
   * failed send, so the broker took a later record for a duplicate and
   * acknowledged it unwritten (tulios/kafkajs#1798). With one partition per
   * send and no idempotence nothing was lost in any run. A retry may now
   * write a record twice: every consumer keys by content (the sink's tables,
   * rollup and detect by series and timestamp), so a copy changes nothing.
   */
  const producer: Producer = kafka.producer({
    idempotent: false,
    maxInFlightRequests: 5,
    createPartitioner: keyPartitioner,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  let connected = false;
  producer.on(producer.events.CONNECT, () => (connected = true));
  producer.on(producer.events.DISCONNECT, () => (connected = false));
  await producer.connect().catch((err) => log.warn({ err: describeError(err) }, 'Kafka not reachable yet; will retry per request'));

  // Metric batches are cut by partition before they are sent, so the publisher needs each topic's partition count.
  const admin = kafka.admin();
  const partitionCounts = new Map<string, Promise<number>>();
  const partitionCount = (topic: string) => {
    let count = partitionCounts.get(topic);
    if (!count) {
      count = admin
        .connect()
        .then(() => admin.fetchTopicMetadata({ topics: [topic] }))
        .then((m) => m.topics[0]!.partitions.length);
      count.catch(() => partitionCounts.delete(topic)); // asked again on the next request
      partitionCounts.set(topic, count);
    }
    return count.catch((err: unknown) => {
      throw unavailable(`Kafka did not say how many partitions ${topic} has: ${describeError(err)}`, err, 5);
    });
  };

  /** Every record of the requests, one send per topic-partition, acks=all; resolved when Kafka acknowledged them all. */
  const send = async (requests: TopicMessages<Message>[][]) => {
    const sends: Promise<unknown>[] = [];
    for (const topicMessages of requests) {
      for (const { topic, messages } of topicMessages) {
        const count = await partitionCount(topic);
        const byPartition = new Map<number, Message[]>();
        for (const m of messages) {
          const partition = m.partition ?? partitionOf(String(m.key ?? ''), count); // as keyPartitioner places it
          let list = byPartition.get(partition);
          if (!list) byPartition.set(partition, (list = []));
          list.push(m.partition === undefined ? { ...m, partition } : m);
        }
        for (const list of byPartition.values()) sends.push(producer.send({ topic, acks: -1, messages: list }));
      }
    }
    await Promise.all(sends);
  };

  const publisher: Publisher = {
    get connected() {
      return connected;
    },

    async publish(kind, records) {
      await publisher.publishAll([{ kind, records } as PublishBatch]);
    },

    async publishAll(batches) {
      const sized = batches.map((batch) => ({ batch, size: batchSize(batch) })).filter((b) => b.size > 0);
      if (sized.length === 0) return;
      // Encoding first: a record the schema refuses fails the whole request before anything is sent.
      const topicMessages: { topic: string; messages: Message[] }[] = [];
      for (const { batch } of sized) {
        if ('series' in batch || batch.kind === 'metrics') {
          const series = 'series' in batch ? batch.series : seriesOf(batch.records);
          const batchTopic = TOPICS.metricBatches.topic;
          topicMessages.push({ topic: batchTopic, messages: encodeMetricBatches(catalog, series, await partitionCount(batchTopic)) });
          continue;
        }
        if (batch.kind === 'rollups') {
          topicMessages.push({ topic: TOPICS.rollupBatches.topic, messages: encodeRollupBatches(catalog, batch.records) });
          continue;
        }
        if (batch.kind === 'spans') {
          // Batch records given are read back into spans and grouped again: every span on its trace's partition.
          const spans = 'spans' in batch ? batch.spans : batch.records.flatMap(spansOf);
          const topic = TOPICS.spans.topic;
          const encode = (b: SpanBatch) => catalog.encode('spans', b);
          topicMessages.push({ topic, messages: encodeSpanBatches(encode, spans, await partitionCount(topic)) });
          continue;
        }
        if (batch.kind === 'logs') {
          const topic = TOPICS.logBatches.topic;
          const encode = (b: LogBatch) => catalog.encode('logBatches', b);
          topicMessages.push({ topic, messages: encodeLogBatches(encode, streamsOf(batch.records), await partitionCount(topic)) });
          continue;
        }
        const { kind, records } = batch;
        const spec = TOPICS[kind];
        const messages = records.map((r) => ({ key: spec.key(r as never), value: catalog.encode(kind, r) }));
        // …and so does one Kafka would refuse for its size: a send of it fails on every retry, and its batch's other sends would land.
        refuseOversized(kind, messages);
        topicMessages.push({ topic: spec.topic, messages });
      }
      const started = performance.now();
      try {
        await withDeadline(send(produceRequests(topicMessages)), timeoutMs, `no acknowledgement from Kafka within ${timeoutMs} ms`);
      } catch (err) {
        throw unavailable(`Kafka did not acknowledge the batch: ${describeError(err)}`, err, 5);
      }
      const seconds = (performance.now() - started) / 1000;
      for (const { batch, size } of sized) opts.onProduced?.(batch.kind, size, seconds);
    },

    async sendRaw(topic, messages) {
      if (messages.length === 0) return;
      await send(produceRequests([{ topic, messages }]));
    },

    async close() {
      await producer.disconnect();
      await admin.disconnect();
    },
  };
  return publisher;
}

/**
 * The largest record batch a broker takes: Kafka's default `message.max.bytes`
 * (1 MiB + 12 bytes of log overhead), which Autopilot's topics keep. A batch
 * over it is refused as too large on every retry, so nothing may be sent that
 * cannot fit: sends are cut well below it (CHUNK_BYTES), and a single record
 * that can never fit is refused before anything of its request is sent.
 */
export const KAFKA_MESSAGE_MAX_BYTES = 1024 * 1024;

/** Room a record batch needs around its records: the v2 batch header is 61 bytes. */
const BATCH_OVERHEAD_BYTES = 128;
/** Per record: its length, attributes, time and offset deltas and field lengths (varints), rounded up. */
const RECORD_OVERHEAD_BYTES = 64;
/** Per header: its name and value lengths (varints), rounded up. */
const HEADER_OVERHEAD_BYTES = 10;

/** The largest record, as `recordBytes` counts it, that fits in a batch of its own. */
export const MAX_RECORD_BYTES = KAFKA_MESSAGE_MAX_BYTES - BATCH_OVERHEAD_BYTES;

const bytesOf = (v: Buffer | string | null | undefined) => (v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);

/** A record's size in a batch, overhead included (an upper bound, never less than Kafka counts). */
export function recordBytes(m: Message): number {
  let bytes = bytesOf(m.key) + bytesOf(m.value) + RECORD_OVERHEAD_BYTES;
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) bytes += Buffer.byteLength(name) + bytesOf(v) + HEADER_OVERHEAD_BYTES;
  }
  return bytes;
}

const MAX_OVERSIZED_DETAILS = 10;

/** A 413 naming each record (kind and index among the call's records of that kind) that can never fit, or nothing. */
function refuseOversized(kind: RecordKind, messages: Message[]): void {
  const oversized: Oversized[] = [];
  messages.forEach((m, index) => {
    const bytes = recordBytes(m);
    if (bytes > MAX_RECORD_BYTES) oversized.push({ kind, index, bytes, limit: MAX_RECORD_BYTES });
  });
  throwOversized(oversized);
}

/**
 * How a kind of batch record is cut to size: encode a group of items, cut a
 * group in two, and name a group's first item (for a 413).
 */
interface RecordCut<G> {
  kind: RecordKind;
  encode(group: G): Message;
  halve(group: G): [G, G] | undefined;
  firstItem(group: G): number;
}

/**
 * The group as one record, cut in two and encoded again while it encodes
 * over CHUNK_BYTES; a group that cannot be cut goes alone if it fits Kafka's
 * limit, and is noted in `oversized` (the call is refused) if it does not.
 */
function pushCut<G>(group: G, cut: RecordCut<G>, messages: Message[], oversized: Oversized[]): void {
  const message = cut.encode(group);
  const bytes = recordBytes(message);
  if (bytes <= CHUNK_BYTES) return void messages.push(message);
  const halves = cut.halve(group);
  if (halves) for (const half of halves) pushCut(half, cut, messages, oversized);
  else if (bytes <= MAX_RECORD_BYTES) messages.push(message);
  else oversized.push({ kind: cut.kind, index: cut.firstItem(group), bytes, limit: MAX_RECORD_BYTES });
}

/** Groups whose records all go to one partition: halved, a group keeps it. */
type OnPartition<T> = { partition: number; items: T[] };
const onPartition = <T>(partition: number, halves: [T[], T[]] | undefined): [OnPartition<T>, OnPartition<T>] | undefined =>
  halves && [
    { partition, items: halves[0] },
    { partition, items: halves[1] },
  ];

/**
 * A request's series as batch records (schemas/metric_batch.avsc): one
 * per tenant and partition of the series key, each series once. A record that
 * encodes over CHUNK_BYTES is cut in two and encoded again; a single sample
 * that cannot fit Kafka's limit even alone refuses the request (413, naming
 * the first item of its series), before anything is sent.
 */
function encodeMetricBatches(catalog: SchemaCatalog, series: readonly SeriesEntry[], partitions: number): Message[] {
  const schemaId = catalog.schemaId('metricBatches');
  if (schemaId === undefined) throw unavailable('schema for metricBatches is not registered yet (schema registry unreachable at start?)');
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  const cut: RecordCut<OnPartition<SeriesEntry>> = {
    kind: 'metrics',
    encode: (g) => ({ partition: g.partition, key: g.items[0]!.tenant, value: writeMetricBatch(g.items, header) }),
    halve: (g) => onPartition(g.partition, halve(g.items)),
    firstItem: (g) => g.items[0]!.firstItem,
  };
  const messages: Message[] = [];
  const oversized: Oversized[] = [];
  for (const group of partitionGroups(series, partitions)) pushCut({ partition: group.partition, items: group.series }, cut, messages, oversized);
  throwOversized(oversized);
  return messages;
}

/**
 * Closed windows as batch records (schemas/rollup_batch.avsc): one per tenant
 * and service. A record over CHUNK_BYTES is cut in two by windows and encoded
 * again; a single window Kafka could never take refuses the call (413).
 */
function encodeRollupBatches(catalog: SchemaCatalog, windows: readonly MetricRollup[]): Message[] {
  const cut: RecordCut<{ batch: RollupBatch; first: number }> = {
    kind: 'rollups',
    encode: (g) => ({ key: TOPICS.rollupBatches.key(g.batch), value: catalog.encode('rollupBatches', g.batch) }),
    halve: (g) => {
      const halves = halveRollupBatch(g.batch);
      return (
        halves && [
          { batch: halves[0], first: g.first },
          { batch: halves[1], first: g.first + halves[0].windows.length },
        ]
      );
    },
    firstItem: (g) => g.first,
  };
  const messages: Message[] = [];
  const oversized: Oversized[] = [];
  for (const batch of rollupBatchesOf(windows)) pushCut({ batch, first: 0 }, cut, messages, oversized);
  throwOversized(oversized);
  return messages;
}

/**
 * A request's log lines as batch records (schemas/log_batch.avsc): one per
 * tenant and partition of their service, each stream once, cut by an
 * estimate of their size to about CHUNK_BYTES; a record that still encodes
 * larger is halved and encoded again. A single line that cannot fit Kafka's
 * limit even alone refuses the request (413, naming its item), before
 * anything is sent.
 */
export function encodeLogBatches(encode: (batch: LogBatch) => Buffer, streams: readonly LogStream[], partitions: number): Message[] {
  const cut: RecordCut<OnPartition<LogStream>> = {
    kind: 'logs',
    encode: (g) => {
      const batch = toLogBatch(g.items);
      return { partition: g.partition, key: TOPICS.logBatches.key(batch), value: encode(batch) };
    },
    halve: (g) => onPartition(g.partition, halveStreams(g.items)),
    firstItem: (g) => g.items[0]!.items[0]!,
  };
  const messages: Message[] = [];
  const oversized: Oversized[] = [];
  // Room for the record's key, header and overhead, which the estimate leaves out.
  const budget = CHUNK_BYTES - 4096;
  for (const group of partitionStreams(streams, partitions))
    for (const items of cutBySize(group.streams, budget)) pushCut({ partition: group.partition, items }, cut, messages, oversized);
  throwOversized(oversized);
  return messages;
}

/**
 * A request's spans as batch records (schemas/span_batch.avsc): one per
 * tenant and partition of their trace key, each resource and scope once,
 * cut by an estimate of their size to about CHUNK_BYTES; a record that still
 * encodes larger is halved and encoded again. A single span that cannot fit
 * Kafka's limit even alone refuses the request (413, naming its index among
 * the call's spans), before anything is sent.
 */
export function encodeSpanBatches(encode: (batch: SpanBatch) => Buffer, spans: readonly Span[], partitions: number): Message[] {
  const cut: RecordCut<OnPartition<Span>> = {
    kind: 'spans',
    encode: (g) => {
      const batch = toSpanBatch(g.items);
      return { partition: g.partition, key: TOPICS.spans.key(batch), value: encode(batch) };
    },
    halve: (g) => onPartition(g.partition, halveSpans(g.items)),
    firstItem: (g) => spans.indexOf(g.items[0]!), // only for a 413: no index kept per span
  };
  const messages: Message[] = [];
  const oversized: Oversized[] = [];
  // Room for the record's key, header and overhead, which the estimate leaves out.
  const budget = CHUNK_BYTES - 4096;
  for (const group of partitionSpans(spans, partitions))
    for (const items of cutSpansBySize(group.spans, budget)) pushCut({ partition: group.partition, items }, cut, messages, oversized);
  throwOversized(oversized);
  return messages;
}

interface Oversized {
  kind: RecordKind;
  index: number;
  bytes: number;
  limit: number;
}

function throwOversized(all: Oversized[]): void {
  const count = all.length;
  if (count === 0) return;
  const oversized = all.slice(0, MAX_OVERSIZED_DETAILS);
  const first = oversized[0]!;
  throw new AutopilotError(
    'payload_too_large',
    `${count === 1 ? 'a record is' : `${count} records are`} too large for Kafka (${first.kind} record ${first.index}: ${first.bytes} bytes encoded, over the limit of ${MAX_RECORD_BYTES}); nothing was written`,
    { details: count > oversized.length ? [...oversized, { truncated: count - oversized.length }] : oversized },
  );
}

/**
 * Kafka refuses a record batch over its message size limit, and kafkajs puts
 * everything one send has for a partition into one batch: a large
 * remote-write request got a 503 on every retry, forever (found by the
 * remote-write benchmark). So a request's records are cut into sends of at
 * most CHUNK_BYTES, each naming a topic once (kafkajs keeps one entry per
 * topic per send). A record over CHUNK_BYTES travels alone, and fits as long
 * as it is within MAX_RECORD_BYTES (callers check). Smaller sends also keep
 * kafkajs's per-partition grouping, which copies the partition's list for
 * every message, from growing quadratically with the request.
 */
export const CHUNK_BYTES = KAFKA_MESSAGE_MAX_BYTES / 4;

type TopicMessages<M extends Message> = { topic: string; messages: M[] };

export function produceRequests<M extends Message>(topicMessages: TopicMessages<M>[]): TopicMessages<M>[][] {
  const requests: TopicMessages<M>[][] = [];
  for (const { topic, messages } of topicMessages) {
    let chunk: M[] = [];
    let bytes = 0;
    let index = 0; // the n-th chunk of each topic goes into the n-th request
    const flush = () => {
      (requests[index++] ??= []).push({ topic, messages: chunk });
      chunk = [];
      bytes = 0;
    };
    for (const m of messages) {
      const size = recordBytes(m);
      if (bytes + size > CHUNK_BYTES && chunk.length) flush();
      chunk.push(m);
      bytes += size;
    }
    if (chunk.length) flush();
  }
  return requests;
}
