import type { Registry } from 'prom-client';
import type { Logger } from '../lib/log.ts';
import { createPublisher } from '../platform/publisher.ts';
import type { Services } from '../platform/services.ts';
import { agents } from './agents/processor.ts';
import { alert } from './alert/processor.ts';
import { analyze } from './analyze/processor.ts';
import { correlate } from './correlate/processor.ts';
import { detect } from './detect/processor.ts';
import { errorRate } from './error-rate/processor.ts';
import { execute } from './execute/processor.ts';
import { notify } from './notify/processor.ts';
import { remediate } from './remediate/processor.ts';
import { rollup } from './rollup/processor.ts';
import { runtimeConfig } from './runtime/config.ts';
import { buildProcessor, type ProcessorFactory } from './runtime/factory.ts';
import { startProcessor, type RunningProcessor } from './runtime/processor.ts';
import { processorTelemetry } from './runtime/telemetry.ts';
import { sink } from './sink/processor.ts';

/** Every processor, downstream first; `autopilot run <name>` knows each by its name. */
export const PROCESSORS = [sink, agents, rollup, detect, errorRate, alert, correlate, analyze, remediate, execute, notify] as const;
export type ProcessorName = (typeof PROCESSORS)[number]['name'];
export const PROCESSOR_NAMES: readonly ProcessorName[] = PROCESSORS.map((p) => p.name);

/** The processors that read or write ClickHouse themselves (tables, rules, prompts, targets); the others only need Kafka and Redis. */
export const NEEDS_CLICKHOUSE: readonly ProcessorName[] = PROCESSORS.filter((p) => p.needsClickHouse).map((p) => p.name);

export interface RunningProcessors {
  stop(): Promise<void>;
}

/**
 * Starts the named processors on shared connections and one producer, all
 * before returning; stop() stops them upstream first, then the producer.
 * Each is made by its factory from its own config (read here, so a bad
 * variable stops the start naming it) and the shared services.
 */
export async function startProcessors(
  names: readonly ProcessorName[],
  services: Services,
  registry: Registry,
  log: Logger,
  opts: { groupPrefix: string; newGroupStart?: 'earliest' | 'latest'; env?: NodeJS.ProcessEnv },
): Promise<RunningProcessors> {
  const env = opts.env ?? process.env;
  const runtime = runtimeConfig(env);
  const publisher = await createPublisher(services.kafka, services.catalog, log);
  const telemetry = processorTelemetry(registry);
  const clickhouse = () => {
    if (!services.clickhouse) throw new Error('this processor needs ClickHouse');
    return services.clickhouse;
  };

  // Every config is read before anything starts. One consumer group per processor; its Redis state is namespaced by the same name.
  const factories: readonly ProcessorFactory<ProcessorName, unknown>[] = PROCESSORS;
  const specs = factories
    .filter((f) => names.includes(f.name))
    .map((f) =>
      buildProcessor(f, env, {
        kafka: services.kafka,
        redis: services.redis,
        clickhouse,
        publisher,
        catalog: services.catalog,
        registry,
        groupId: `${opts.groupPrefix}-${f.name}`,
        runtime,
        log: log.child({ processor: f.name }),
      }),
    );
  // Started side by side: each waits for its own group to join (seconds apiece), and all are up before
  // this returns, so nothing upstream of them (the gateway) runs before they do.
  const running: RunningProcessor[] = await Promise.all(
    specs.map((spec) =>
      startProcessor(spec, {
        kafka: services.kafka,
        catalog: services.catalog,
        publisher,
        log,
        telemetry,
        runtime,
        fromBeginning: opts.newGroupStart !== 'latest',
      }),
    ),
  );
  // Readiness of this process includes its processors: a stalled partition turns /health/ready 503.
  services.checks.push(...running.map((p) => p.check));
  return {
    async stop() {
      for (const p of running.reverse()) await p.stop();
      await publisher.close();
    },
  };
}
