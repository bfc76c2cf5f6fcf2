import type { ClickHouseClient } from '@clickhouse/client';
import type { Kafka, Producer } from 'kafkajs';
import type { Counter } from 'prom-client';
import type { SchemaCatalog } from '../../schemas/catalog.ts';
import { TOPICS, type MetricPoint } from '../../schemas/topics.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { PartitionWindows, type ClosedWindow, type WindowConfig } from './windows.ts';

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
 */
interface Checkpoint {
  /** Watermark when the checkpoint was taken. */
  w: number;
  /** Last offset processed when it was taken. */
  p: string;
}

interface PartitionState {
  windows: PartitionWindows;
  restored?: { watermark: number; processed: bigint };
}

export function rollupProcessor(deps: {
  clickhouse: ClickHouseClient;
  kafka: Kafka;
  producer: Producer;
  catalog: SchemaCatalog;
  config: WindowConfig;
  latePoints: Counter<'processor' | 'topic'>;
  groupId: string;
}): ProcessorSpec {
  const groupId = deps.groupId;
  const topic = TOPICS.metrics.topic;
  let partitions = new Map<number, Promise<PartitionState>>();

  async function restore(partition: number): Promise<PartitionState> {
    const admin = deps.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const meta = offsets?.partitions.find((p) => p.partition === partition)?.metadata;
      const cp = meta ? (JSON.parse(meta) as Checkpoint) : undefined;
      if (!cp) return { windows: new PartitionWindows(deps.config) };
      return { windows: new PartitionWindows(deps.config, cp.w), restored: { watermark: cp.w, processed: BigInt(cp.p) } };
    } finally {
      await admin.disconnect();
    }
  }

  const handle = async (batch: Decoded[]) => {
    const partition = batch[0]!.partition;
    if (!partitions.has(partition)) partitions.set(partition, restore(partition));
    const state = await partitions.get(partition)!;
    const late: Record<string, unknown>[] = [];

    for (const d of batch) {
      const point = d.value as MetricPoint;
      const offset = BigInt(d.offset);
      const r = state.restored;
      if (r && offset <= r.processed && windowEnd(point, deps.config) <= r.watermark) continue; // counted before the restart
      if (state.windows.add(point, offset) === 'late') {
        late.push({
          tenant: point.tenant,
          service: point.labels.service ?? '',
          metric_name: point.metric_name,
          labels: point.labels,
          window_start: windowEnd(point, deps.config) - deps.config.windowMs,
          timestamp: point.timestamp,
          value: point.value,
          watermark: state.windows.watermark,
          kafka_partition: partition,
          kafka_offset: d.offset,
        });
      }
    }

    const closed = state.windows.closeReady();
    await writeClosed(closed, late);
    deps.latePoints.inc({ processor: 'rollup', topic }, late.length);

    const last = BigInt(batch[batch.length - 1]!.offset);
    const checkpoint: Checkpoint = { w: state.windows.watermark, p: last.toString() };
    return {
      rejected: [],
      commitOffset: state.windows.committableOffset(last + 1n).toString(),
      commitMetadata: JSON.stringify(checkpoint),
    };
  };

  async function writeClosed(closed: ClosedWindow[], late: Record<string, unknown>[]): Promise<void> {
    if (closed.length) {
      await deps.clickhouse.insert({ table: 'metric_rollups', values: closed, format: 'JSONEachRow' });
      await deps.producer.send({
        topic: TOPICS.rollups.topic,
        acks: -1,
        messages: closed.map(({ sketch: _, sketch_gamma: __, ...w }) => ({ key: TOPICS.rollups.key(w), value: deps.catalog.encode('rollups', w) })),
      });
    }
    if (late.length) await deps.clickhouse.insert({ table: 'metric_late_points', values: late, format: 'JSONEachRow' });
  }

  return {
    name: 'rollup',
    groupId,
    topics: [topic],
    handle,
    onRebalance: () => {
      partitions = new Map();
    },
  };
}

const windowEnd = (p: MetricPoint, cfg: WindowConfig) => Math.floor(p.timestamp / cfg.windowMs) * cfg.windowMs + cfg.windowMs;
