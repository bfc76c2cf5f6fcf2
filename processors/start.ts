import type { Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { createPublisher } from '../gateway/publish.ts';
import { keyPartitioner } from '../lib/kafka.ts';
import type { Logger } from '../lib/log.ts';
import type { Services } from '../lib/services.ts';
import { DocumentStore } from '../sql/stores/documents.ts';
import { PromptStore } from '../sql/stores/prompts.ts';
import { alertConfig } from './alert/config.ts';
import { alertProcessor } from './alert/processor.ts';
import { analyzeConfig } from './analyze/config.ts';
import { analyzeProcessor } from './analyze/processor.ts';
import { notifyConfig } from './notify/config.ts';
import { notifyProcessor } from './notify/processor.ts';
import { correlationConfig } from './correlate/config.ts';
import { correlateProcessor } from './correlate/correlate.ts';
import { detectorConfig } from './detect/config.ts';
import { detectProcessor } from './detect/detect.ts';
import { errorRateProcessor } from './detect/error-rate.ts';
import { rollupConfig } from './rollup/config.ts';
import { rollupProcessor } from './rollup/rollup.ts';
import { runtimeConfig } from './runtime/config.ts';
import { startProcessor, type ProcessorSpec, type RunningProcessor } from './runtime/processor.ts';
import { processorTelemetry } from './runtime/telemetry.ts';
import { sinkProcessor } from './sink/sink.ts';

/** Every processor, by the name `autopilot run <name>` knows it by, downstream first. */
export const PROCESSOR_NAMES = ['sink', 'rollup', 'detect', 'error-rate', 'alert', 'correlate', 'analyze', 'notify'] as const;
export type ProcessorName = (typeof PROCESSOR_NAMES)[number];

/** The processors that read or write ClickHouse themselves (tables, rules, prompts, targets); the others only need Kafka and Redis. */
export const NEEDS_CLICKHOUSE: readonly ProcessorName[] = ['sink', 'rollup', 'alert', 'analyze', 'notify'];

export interface RunningProcessors {
  stop(): Promise<void>;
}

/**
 * Starts the named processors on shared connections, all before returning;
 * stop() stops them upstream first, then the producers.
 */
export async function startProcessors(
  names: readonly ProcessorName[],
  services: Services,
  registry: Registry,
  log: Logger,
  opts: { groupPrefix: string; newGroupStart?: 'earliest' | 'latest'; env?: NodeJS.ProcessEnv },
): Promise<RunningProcessors> {
  const env = opts.env ?? process.env;
  // One consumer group per processor; its Redis state is namespaced by the same name.
  const groupId = (name: ProcessorName) => `${opts.groupPrefix}-${name}`;
  const clickhouse = () => {
    if (!services.clickhouse) throw new Error('this processor needs ClickHouse');
    return services.clickhouse;
  };
  // Raw sends (dead letters, rollups) and encoded publishes (anomalies, incidents) share the partitioner.
  const producer: Producer = services.kafka.producer({ idempotent: true, maxInFlightRequests: 5, createPartitioner: keyPartitioner });
  await producer.connect();
  const publisher = await createPublisher(services.kafka, services.catalog, log);
  const telemetry = processorTelemetry(registry);

  const specs: Record<ProcessorName, () => ProcessorSpec> = {
    sink: () => sinkProcessor(clickhouse(), groupId('sink')),
    rollup: () =>
      rollupProcessor({ clickhouse: clickhouse(), kafka: services.kafka, publisher, config: rollupConfig(env), latePoints: telemetry.latePoints, groupId: groupId('rollup') }),
    detect: () => detectProcessor({ redis: services.redis, publisher, config: detectorConfig(env), groupId: groupId('detect') }),
    'error-rate': () => errorRateProcessor({ redis: services.redis, publisher, detector: detectorConfig(env), windows: rollupConfig(env), groupId: groupId('error-rate') }),
    alert: () => alertProcessor({ redis: services.redis, publisher, rules: new DocumentStore(clickhouse(), 'alert_rules'), ...alertConfig(env), groupId: groupId('alert') }),
    analyze: () =>
      analyzeProcessor({
        clickhouse: clickhouse(),
        redis: services.redis,
        publisher,
        prompts: new PromptStore(clickhouse()),
        experiments: new DocumentStore(clickhouse(), 'experiments'),
        config: analyzeConfig(env),
        telemetry,
        groupId: groupId('analyze'),
      }),
    notify: () =>
      notifyProcessor({ redis: services.redis, publisher, targets: new DocumentStore(clickhouse(), 'notification_targets'), config: notifyConfig(env), outcomes: telemetry.notifications, groupId: groupId('notify') }),
    correlate: () => {
      const { sweepMs, ...config } = correlationConfig(env);
      return correlateProcessor({ redis: services.redis, publisher, config, sweepMs, groupId: groupId('correlate') });
    },
  };
  // Started side by side: each waits for its own group to join (seconds apiece), and all are up before
  // this returns, so nothing upstream of them (the gateway) runs before they do.
  const runtime = runtimeConfig(env);
  const running: RunningProcessor[] = await Promise.all(
    PROCESSOR_NAMES.filter((n) => names.includes(n)).map((name) =>
      startProcessor(specs[name](), { kafka: services.kafka, catalog: services.catalog, producer, log, telemetry, runtime, fromBeginning: opts.newGroupStart !== 'latest' }),
    ),
  );
  // Readiness of this process includes its processors: a stalled partition turns /health/ready 503.
  services.checks.push(...running.map((p) => p.check));
  return {
    async stop() {
      for (const p of running.reverse()) await p.stop();
      await publisher.close();
      await producer.disconnect();
    },
  };
}
