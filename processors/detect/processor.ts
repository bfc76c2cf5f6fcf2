import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Publisher } from '../../platform/publisher.ts';
import { TOPICS, type Anomaly, type MetricBatch } from '../../schemas/topics.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { verdictFields } from '../runtime/anomaly-fields.ts';
import { lastTimeOf, observe, type DetectorConfig } from '../runtime/detector.ts';
import { DetectorStore, execOrThrow } from '../runtime/detector-store.ts';
import { forEachSeries, identify, seriesIdentities as identities } from '../runtime/metric-batches.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { detectConfig } from './config.ts';

/**
 * The detect processor: every metric sample is judged by its series' model
 * (runtime/detector.ts); anomalies go to `autopilot.anomalies` (and, through
 * the sink, to ClickHouse).
 *
 * Models live in Redis, written in one MULTI/EXEC with the partition's
 * applied offset: a checkpoint, every `checkpointMs` (PROCESSOR_CHECKPOINT_MS).
 * The Kafka commit stays at the last checkpoint, so after a crash the replay
 * starts there, skips what Redis says was applied, and no sample is learned
 * twice or lost. Anomalies are published before the checkpoint; one
 * published and then replayed carries the same anomaly_id (its series and
 * timestamp) and collapses downstream.
 *
 * Samples are judged in event-time order per series, as a TSDB appends them:
 * one at or before the series' last judged timestamp is a copy a sender
 * retried (new offsets, same sample) or out of order, and is not judged again.
 */

export function detectProcessor(deps: { redis: Redis; publisher: Publisher; config: DetectorConfig; groupId: string; checkpointMs: number }): ProcessorSpec {
  const topic = TOPICS.metricBatches.topic;
  // Redis keys live under the consumer group: the state belongs to the group's progress.
  const offsetKey = (partition: number) => `${deps.groupId}:offset:${topic}:${partition}`;
  // Per partition, while this consumer owns it; dropped on rebalance or rewind, when Redis is the truth again.
  let models = new Map<number, DetectorStore>();
  /** The offset Redis holds for the partition (its last checkpoint), and when it was written. */
  let checkpoints = new Map<number, { offset: bigint; at: number }>();
  /** The last offset judged, checkpointed or not: a batch handed over again (rebalance) is not judged twice. */
  let judged = new Map<number, bigint>();

  const handle = async (batch: Decoded[]) => {
    const partition = batch[0]!.partition;
    if (!checkpoints.has(partition)) {
      const stored = await deps.redis.get(offsetKey(partition));
      const offset = stored === null ? -1n : BigInt(stored);
      checkpoints.set(partition, { offset, at: Number.NEGATIVE_INFINITY }); // the first batch writes one at once
      judged.set(partition, offset);
    }
    const checkpoint = checkpoints.get(partition)!;
    const done = judged.get(partition)!;
    const fresh = batch.filter((d) => BigInt(d.offset) > done);
    const store = models.get(partition) ?? new DetectorStore(deps.redis, deps.groupId);
    models.set(partition, store);

    const records = fresh.map((d) => ({ d, batch: d.value as MetricBatch, series: identify(d.value as MetricBatch, identities) }));
    await store.load(records.flatMap((r) => r.series.map((s) => s.id)));
    const anomalies: Anomaly[] = [];
    for (const { d, batch: b, series } of records) {
      forEachSeries(b, series, (s, from, to) => {
        const state = store.use(s.id);
        for (let i = from; i < to; i++) {
          const value = b.values[i]!;
          // NaN and ±Inf are stored raw (Prometheus keeps them) but would poison a model's level and scale.
          if (!Number.isFinite(value)) continue;
          const timestamp = b.base_timestamp + b.timestamps[i]!;
          if (timestamp <= lastTimeOf(state)) continue;
          const v = observe(state, timestamp, value, deps.config);
          // An event is reported when it is raised, and once more when it lasts (sustained).
          if (!v.anomaly && !v.sustained) continue;
          anomalies.push({
            anomaly_id: `an_${createHash('sha1').update(s.id).digest('hex').slice(0, 16)}_${timestamp}`,
            tenant: s.tenant,
            service: s.service,
            metric_name: s.metricName,
            labels: s.labels,
            kind: 'metric',
            ...verdictFields(v, value),
            detected_at: timestamp,
            source_topic: topic,
            source_partition: d.partition,
            source_offset: Number(d.offset),
          });
        }
      });
    }

    await deps.publisher.publish('anomalies', anomalies);
    const last = BigInt(batch[batch.length - 1]!.offset);
    if (last > done) judged.set(partition, last);
    const now = Date.now();
    if (now - checkpoint.at >= deps.checkpointMs && last > checkpoint.offset) {
      const tx = deps.redis.multi();
      store.writeTo(tx);
      tx.set(offsetKey(partition), last.toString());
      await execOrThrow(tx);
      checkpoints.set(partition, { offset: last, at: now });
    }
    return { rejected: [], commitOffset: (checkpoints.get(partition)!.offset + 1n).toString() };
  };

  const forget = () => {
    models = new Map();
    checkpoints = new Map();
    judged = new Map();
  };
  return {
    name: 'detect',
    groupId: deps.groupId,
    topics: [topic],
    handle,
    onRebalance: forget,
    onRewind: (_topic, partition) => {
      models.delete(partition);
      checkpoints.delete(partition);
      judged.delete(partition);
    },
  };
}

export const detect = defineProcessor({
  name: 'detect',
  needsClickHouse: false,
  config: detectConfig,
  create: (config, s) => detectProcessor({ redis: s.redis, publisher: s.publisher, config, groupId: s.groupId, checkpointMs: s.runtime.checkpointMs }),
});
