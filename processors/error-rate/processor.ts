import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Publisher } from '../../platform/publisher.ts';
import { TOPICS, type Anomaly, type LogBatch } from '../../schemas/topics.ts';
import { forEachStream, type LogStreamView } from '../runtime/log-batches.ts';
import { PartitionWindows, type WindowCheckpoint } from '../runtime/windows.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { verdictFields } from '../runtime/anomaly-fields.ts';
import { observe } from '../runtime/detector.ts';
import { DetectorStore, execOrThrow } from '../runtime/detector-store.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { errorRateConfig, type ErrorRateConfig } from './config.ts';

/**
 * Error-rate spikes: ERROR and FATAL log lines per service per event-time
 * minute, judged against that service's own history of per-minute counts.
 *
 * Counting uses the rollup's windows (a log line is a point of value 1 or 0),
 * so the watermark, lateness and record-by-record closing are the same. Open
 * minutes are rebuilt by replay: the commit names the first offset an open
 * minute needs, and a checkpoint {watermark, processed} is saved in Redis in
 * the same MULTI as the baselines it produced. A replayed line whose minute
 * had closed by that checkpoint was already counted and is skipped.
 *
 * Lines arrive in batch records (schemas/log_batch.avsc), read stream by
 * stream: a stream's minute series is made once per record, then its lines
 * are folded in from the record's columns.
 *
 * An error line is counted once however often it is sent: a copy with the
 * same stream (level and labels), timestamp and text, as a retried push
 * writes it, is a duplicate within its minute. Other lines count 0 towards
 * the sum that is judged, so a copy of one changes nothing and they are
 * folded in without an identity (no hash per line for nothing).
 */
const ERROR_LEVELS = new Set(['error', 'fatal']);
/** A service's series of per-minute counts: its windows and its baseline in Redis are kept under this. */
const id = (w: { tenant: string; service: string }) => `error_rate\u0000${w.tenant}\u0000${w.service}`;

export function errorRateProcessor(deps: { redis: Redis; publisher: Publisher; config: ErrorRateConfig; groupId: string }): ProcessorSpec {
  // The key it had when it read autopilot.logs: after an upgrade, that topic's checkpoint makes only lines of
  // minutes it had closed count as replayed here, and those are late anyway. Neither is counted again.
  const checkpointKey = (partition: number) => `${deps.groupId}:checkpoint:${partition}`;
  const topic = TOPICS.logBatches.topic;
  const { detector, windows: windowCfg } = deps.config;
  // Per partition, dropped on rebalance or rewind: the checkpoint and baselines in Redis are the truth again.
  let baselines = new Map<number, DetectorStore>();
  let partitions = new Map<number, Promise<PartitionWindows>>();

  async function restore(partition: number): Promise<PartitionWindows> {
    const raw = await deps.redis.get(checkpointKey(partition));
    return new PartitionWindows(windowCfg, raw ? (JSON.parse(raw) as WindowCheckpoint) : undefined);
  }

  const handle = async (batch: Decoded[]) => {
    const partition = batch[0]!.partition;
    if (!partitions.has(partition)) partitions.set(partition, restore(partition));
    const windows = await partitions.get(partition)!;

    for (const d of batch) {
      const b = d.value as LogBatch;
      const offset = BigInt(d.offset);
      forEachStream(b, (stream, from, to) => {
        const series = { id: id(stream), tenant: stream.tenant, metricName: 'error_rate', labels: { service: stream.service }, service: stream.service };
        let labelsJson: string | undefined;
        for (let i = from; i < to; i++) {
          const timestamp = b.base_timestamp + b.timestamps[i]!;
          const level = b.levels[i]!;
          // A late line is simply not counted: its minute was judged.
          if (!ERROR_LEVELS.has(level)) windows.add(series, timestamp, 0, offset);
          else windows.add(series, timestamp, 1, offset, lineIdentity(timestamp, level, (labelsJson ??= labelsJsonOf(stream)), b.messages[i]!));
        }
      });
    }

    const closed = windows.closeReady();
    const store = baselines.get(partition) ?? new DetectorStore(deps.redis, deps.groupId);
    baselines.set(partition, store);
    await store.load(closed.map(id));
    const anomalies: Anomaly[] = [];
    for (const w of closed.sort((a, b) => a.window_start - b.window_start)) {
      const v = observe(store.use(id(w)), w.window_start, w.sum, detector);
      if (!v.anomaly && !v.sustained) continue;
      anomalies.push({
        anomaly_id: `er_${w.tenant}_${w.service}_${w.window_start}`,
        tenant: w.tenant,
        service: w.service,
        metric_name: 'error_rate',
        labels: { service: w.service },
        kind: 'error_rate',
        ...verdictFields(v, w.sum),
        detected_at: w.window_end,
        source_topic: topic,
        source_partition: partition,
        source_offset: 0,
      });
    }
    await deps.publisher.publish('anomalies', anomalies);

    const last = BigInt(batch[batch.length - 1]!.offset);
    const tx = deps.redis.multi();
    store.writeTo(tx);
    tx.set(checkpointKey(partition), JSON.stringify(windows.checkpoint(last)));
    await execOrThrow(tx);
    return { rejected: [], commitOffset: windows.committableOffset(last + 1n).toString() };
  };

  return {
    name: 'error-rate',
    groupId: deps.groupId,
    topics: [topic],
    handle,
    onRebalance: () => {
      partitions = new Map();
      baselines = new Map();
    },
    onRewind: (_topic, partition) => {
      partitions.delete(partition);
      baselines.delete(partition);
    },
  };
}

/**
 * What makes a log line the same line: its stream, timestamp and text
 * (hashed: open minutes keep one per line). The text goes last, so no
 * separator needs escaping; identities live only in open minutes, which a
 * restart rebuilds by replay, so their spelling may change between versions.
 */
function lineIdentity(timestamp: number, level: string, labelsJson: string, message: string): string {
  return createHash('sha1').update(`${timestamp}\u0000${level}\u0000${labelsJson}\u0000${message}`).digest('base64');
}

const labelsJsonOf = (stream: LogStreamView) => JSON.stringify(stream.labels);

export const errorRate = defineProcessor({
  name: 'error-rate',
  needsClickHouse: false,
  config: errorRateConfig,
  create: (config, s) => errorRateProcessor({ redis: s.redis, publisher: s.publisher, config, groupId: s.groupId }),
});
