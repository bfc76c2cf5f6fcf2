import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Publisher } from '../../platform/publisher.ts';
import { TOPICS, type Anomaly, type MetricPoint } from '../../schemas/topics.ts';
import { seriesId } from '../runtime/windows.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { judge, type DetectorConfig } from '../runtime/baseline.ts';
import { BaselineStore, execOrThrow } from '../runtime/baseline-store.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { detectConfig } from './config.ts';

/**
 * The detect processor: every metric sample is judged against its series'
 * baseline; anomalies go to `autopilot.anomalies` (and, through the sink, to
 * ClickHouse).
 *
 * Baselines live in Redis, written in one MULTI/EXEC with the partition's
 * applied offset. After a crash the replay skips what Redis says was applied,
 * so no sample is learned twice or lost. Anomalies are published before that
 * transaction; one published and then replayed carries the same anomaly_id
 * (its series and timestamp) and collapses downstream.
 *
 * Samples are judged in event-time order per series, as a TSDB appends them:
 * one at or before the series' last judged timestamp is a copy a sender
 * retried (new offsets, same sample) or out of order, and is not judged again.
 */

export function detectProcessor(deps: { redis: Redis; publisher: Publisher; config: DetectorConfig; groupId: string }): ProcessorSpec {
  const topic = TOPICS.metricBatches.topic;
  // Redis keys live under the consumer group: the state belongs to the group's progress.
  const offsetKey = (partition: number) => `${deps.groupId}:offset:${topic}:${partition}`;
  // Per partition, cached while this consumer owns it; dropped on rebalance or rewind, when Redis is the truth again.
  let baselines = new Map<number, BaselineStore>();
  let applied = new Map<number, bigint>();

  const handle = async (batch: Decoded[]) => {
    const partition = batch[0]!.partition;
    if (!applied.has(partition)) {
      const stored = await deps.redis.get(offsetKey(partition));
      applied.set(partition, stored === null ? -1n : BigInt(stored));
    }
    const done = applied.get(partition)!;
    const fresh = batch.filter((d) => BigInt(d.offset) > done);
    if (fresh.length === 0) return { rejected: [] };

    const series = fresh.map((d) => seriesId(d.value as MetricPoint));
    const store = baselines.get(partition) ?? new BaselineStore(deps.redis, deps.groupId);
    baselines.set(partition, store);
    await store.load(series);
    const anomalies: Anomaly[] = [];
    for (const [i, d] of fresh.entries()) {
      const point = d.value as MetricPoint;
      // NaN and ±Inf are stored raw (Prometheus keeps them) but would poison a baseline's mean and spread.
      if (!Number.isFinite(point.value)) continue;
      const state = store.use(series[i]!);
      if (state.last !== undefined && point.timestamp <= state.last) continue;
      state.last = point.timestamp;
      const v = judge(state, point.value, deps.config);
      if (!v.anomaly) continue;
      anomalies.push({
        anomaly_id: `an_${createHash('sha1').update(series[i]!).digest('hex').slice(0, 16)}_${point.timestamp}`,
        tenant: point.tenant,
        service: point.labels.service ?? '',
        metric_name: point.metric_name,
        labels: point.labels,
        kind: 'metric',
        current_value: point.value,
        baseline_mean: v.mean,
        baseline_std_dev: v.stdDev,
        baseline_median: v.centre,
        z_score: v.z!,
        deviation_percent: v.centre === 0 ? 0 : ((point.value - v.centre) / Math.abs(v.centre)) * 100,
        severity: v.severity!,
        level_shift: v.levelShift,
        consecutive: v.consecutive,
        detected_at: point.timestamp,
        source_topic: topic,
        source_partition: d.partition,
        source_offset: Number(d.offset),
      });
    }

    await deps.publisher.publish('anomalies', anomalies);
    const last = fresh[fresh.length - 1]!.offset;
    const tx = deps.redis.multi();
    store.writeTo(tx);
    tx.set(offsetKey(partition), last);
    await execOrThrow(tx);
    applied.set(partition, BigInt(last));
    return { rejected: [] };
  };

  return {
    name: 'detect',
    groupId: deps.groupId,
    topics: [topic],
    handle,
    onRebalance: () => {
      baselines = new Map();
      applied = new Map();
    },
    onRewind: (_topic, partition) => {
      baselines.delete(partition);
      applied.delete(partition);
    },
  };
}

export const detect = defineProcessor({
  name: 'detect',
  needsClickHouse: false,
  config: detectConfig,
  create: (config, s) => detectProcessor({ redis: s.redis, publisher: s.publisher, config, groupId: s.groupId }),
});
