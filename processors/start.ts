import type { Producer } from 'kafkajs';
import { keyPartitioner } from '../lib/kafka.ts';
import type { Registry } from 'prom-client';
import type { Logger } from '../lib/log.ts';
import type { Services } from '../lib/services.ts';
import { startProcessor, type RunningProcessor } from './runtime/processor.ts';
import { processorTelemetry } from './runtime/telemetry.ts';
import { sinkProcessor } from './sink/sink.ts';

/** Every processor, by the name `autopilot run <name>` knows it by. */
export const PROCESSOR_NAMES = ['sink'] as const;
export type ProcessorName = (typeof PROCESSOR_NAMES)[number];

export interface RunningProcessors {
  stop(): Promise<void>;
}

/** Starts the named processors on shared connections; stop() stops them, then the dead-letter producer. */
export async function startProcessors(names: readonly ProcessorName[], services: Services, registry: Registry, log: Logger): Promise<RunningProcessors> {
  if (!services.clickhouse) throw new Error('processors need ClickHouse');
  const producer: Producer = services.kafka.producer({ idempotent: true, maxInFlightRequests: 5, createPartitioner: keyPartitioner });
  await producer.connect();
  const telemetry = processorTelemetry(registry);
  const specs = { sink: () => sinkProcessor(services.clickhouse!) };
  const running: RunningProcessor[] = [];
  for (const name of names) {
    running.push(await startProcessor(specs[name](), { kafka: services.kafka, catalog: services.catalog, producer, log, telemetry }));
  }
  return {
    async stop() {
      for (const p of running.reverse()) await p.stop();
      await producer.disconnect();
    },
  };
}
