/**
 * Fills `autopilot.metric-batches` from this process with the gateway's own
 * publisher (schema catalog, key partitioner, acks=all) but without HTTP, so
 * a million points take seconds and the processors under test find a backlog
 * exactly as the gateway would have written it.
 */
import type { Kafka } from 'kafkajs';
import { createPublisher } from '../platform/publisher.ts';
import { ensureTopics } from '../platform/kafka.ts';
import type { Logger } from '../lib/log.ts';
import { SchemaCatalog } from '../schemas/catalog.ts';
import type { MetricPoint } from '../schemas/topics.ts';
import { fleetSample } from './fleet.ts';

const CHUNK = 5000;
const IN_FLIGHT = 4;
/** Samples of one series are this far apart in event time, so rollup windows open and close as they do live. */
const STEP_MS = 10_000;

export async function preloadMetrics(opts: {
  kafka: Kafka;
  registryUrl: string;
  partitions: number;
  log: Logger;
  tenant: string;
  points: number;
  series: number;
}): Promise<void> {
  await ensureTopics(opts.kafka, opts.partitions);
  const catalog = SchemaCatalog.connect(opts.registryUrl);
  await catalog.registerAll();
  const publisher = await createPublisher(opts.kafka, catalog, opts.log, { timeoutMs: 60_000 });
  // Time-major, as a fleet reports: every series' k-th sample, then the (k+1)-th; the last one is about now.
  const start = Date.now() - Math.ceil(opts.points / opts.series) * STEP_MS;
  const chunk = (from: number): MetricPoint[] =>
    Array.from({ length: Math.min(CHUNK, opts.points - from) }, (_, j) => {
      const i = from + j;
      return { tenant: opts.tenant, ...fleetSample(i % opts.series, start + Math.floor(i / opts.series) * STEP_MS) };
    });
  try {
    let next = 0;
    const worker = async () => {
      while (next < opts.points) {
        const from = next;
        next += CHUNK;
        await publisher.publish('metrics', chunk(from));
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  } finally {
    await publisher.close();
  }
}
