import type { ClickHouseClient } from '@clickhouse/client';
import type { Kafka } from 'kafkajs';
import type { Counter } from 'prom-client';
import type { Publisher } from '../../platform/publisher.ts';
import { TOPICS, type MetricBatch } from '../../schemas/topics.ts';
import { forEachSeries, identify, seriesIdentities as identities } from '../runtime/metric-batches.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { PartitionWindows, windowStartOf, type ClosedWindow, type WindowCheckpoint, type WindowConfig } from '../runtime/windows.ts';
import { rowBinaryWriter } from '../../sql/row-binary.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { rollupConfig } from './config.ts';
import { rollupTelemetry } from './telemetry.ts';

/**
 * The rollup processor: windowed count/sum/min/max/p50/p90/p95/p99 per series.
 *
 * Exactly once without a state store: open windows live in memory and are
 * rebuilt by replay. Each commit names the first offset an open window still
 * needs, and carries {watermark, processed} as Kafka offset metadata (stored
 * atomically with the offset). On restart, a replayed point whose window had
 * already closed by then was counted (in that window, or as late) and is
 * skipped; anything else is folded in as the first time. Closed windows are
 * upserts keyed by (series, window start), so re-closing one writes the same row.
 *
 * A failed write is not retried in place: the runtime rewinds the partition
 * to its last commit and the windows are rebuilt by the replay, so windows
 * that closed in the failed batch close again and are written then (retried
 * in place, they had already left the open set and were lost).
 */
export function rollupProcessor(deps: {
  clickhouse: ClickHouseClient;
  kafka: Kafka;
  publisher: Publisher;
  config: WindowConfig;
  latePoints: Counter<'processor' | 'topic'>;
  groupId: string;
}): ProcessorSpec {
  const groupId = deps.groupId;
  const topic = TOPICS.metricBatches.topic;
  let partitions = new Map<number, Promise<PartitionWindows>>();
  // RowBinary, as the sink writes: no JSON to build here, none for the engine to parse.
  const writer = rowBinaryWriter(deps.clickhouse);

  async function restore(partition: number): Promise<PartitionWindows> {
    const admin = deps.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const meta = offsets?.partitions.find((p) => p.partition === partition)?.metadata;
      return new PartitionWindows(deps.config, meta ? (JSON.parse(meta) as WindowCheckpoint) : undefined);
    } finally {
      await admin.disconnect();
    }
  }

  const handle = async (batch: Decoded[]) => {
    const partition = batch[0]!.partition;
    if (!partitions.has(partition)) partitions.set(partition, restore(partition));
    const windows = await partitions.get(partition)!;
    const late: Record<string, unknown>[] = [];

    for (const d of batch) {
      const b = d.value as MetricBatch;
      const offset = BigInt(d.offset);
      forEachSeries(b, identify(b, identities), (series, from, to) => {
        for (let i = from; i < to; i++) {
          const value = b.values[i]!;
          // NaN and ±Inf are stored raw (Prometheus keeps them) but have no percentile: a DDSketch throws on ±Inf.
          if (!Number.isFinite(value)) continue;
          const timestamp = b.base_timestamp + b.timestamps[i]!;
          // The sample's timestamp is its identity: a sender's retry (same series and timestamp) is counted once.
          if (windows.add(series, timestamp, value, offset, timestamp) !== 'late') continue;
          late.push({
            tenant: series.tenant,
            service: series.service,
            metric_name: series.metricName,
            labels: series.labels,
            window_start: windowStartOf(timestamp, deps.config),
            timestamp,
            value,
            watermark: windows.watermark,
            kafka_partition: partition,
            kafka_offset: d.offset,
          });
        }
      });
    }

    const closed = windows.closeReady();
    await writeClosed(closed, late);
    deps.latePoints.inc({ processor: 'rollup', topic }, late.length);

    const last = BigInt(batch[batch.length - 1]!.offset);
    return {
      rejected: [],
      commitOffset: windows.committableOffset(last + 1n).toString(),
      commitMetadata: JSON.stringify(windows.checkpoint(last)),
    };
  };

  async function writeClosed(closed: ClosedWindow[], late: Record<string, unknown>[]): Promise<void> {
    if (closed.length) {
      await writer.insertRows('metric_rollups', closed as unknown as Record<string, unknown>[]);
      // Through the publisher: one batch record per service, cut below Kafka's message limit (the sketch stays behind).
      await deps.publisher.publish('rollups', closed);
    }
    if (late.length) await writer.insertRows('metric_late_points', late);
  }

  return {
    name: 'rollup',
    groupId,
    topics: [topic],
    handle,
    onRebalance: () => {
      partitions = new Map();
    },
    onRewind: (_topic, partition) => {
      partitions.delete(partition);
    },
    close: async () => writer.close(),
  };
}

export const rollup = defineProcessor({
  name: 'rollup',
  needsClickHouse: true,
  config: rollupConfig,
  create: (config, s) =>
    rollupProcessor({
      clickhouse: s.clickhouse(),
      kafka: s.kafka,
      publisher: s.publisher,
      config,
      latePoints: rollupTelemetry(s.registry).latePoints,
      groupId: s.groupId,
    }),
});
