import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Logger } from '../../lib/log.ts';
import type { Publisher } from '../../platform/publisher.ts';
import type { SchemaCatalog } from '../../schemas/catalog.ts';
import type { RuntimeConfig } from './config.ts';
import type { ProcessorSpec } from './processor.ts';

/** What a processor is built from besides its config: shared connections, its own group, the process's registry. */
export interface ProcessorServices {
  kafka: Kafka;
  redis: Redis;
  /** ClickHouse, for the processors whose factory says `needsClickHouse`. */
  clickhouse(): ClickHouseClient;
  publisher: Publisher;
  /** The topics' Avro schemas (the sink decodes a gathered record again from its bytes). */
  catalog: SchemaCatalog;
  registry: Registry;
  /** This processor's consumer group; its Redis state is namespaced by it too. */
  groupId: string;
  /** The consume loop's settings (PROCESSOR_*): attempts, the checkpoint interval of state kept in Redis. */
  runtime: RuntimeConfig;
  /** This processor's logger. */
  log: Logger;
}

/**
 * A processor as the OpenTelemetry Collector builds a component: a name, a
 * validated config read from the environment, and a factory that makes it
 * from that config and the shared services. processors/start.ts lists these
 * and knows nothing else about any one processor.
 */
export interface ProcessorFactory<N extends string = string, C = unknown> {
  name: N;
  /** Reads or writes ClickHouse itself (tables, rules, prompts, targets); the others need only Kafka and Redis. */
  needsClickHouse: boolean;
  config(env: NodeJS.ProcessEnv): C;
  create(config: C, services: ProcessorServices): ProcessorSpec;
}

/** The processor's spec, from its config read from `env`: a bad variable throws here, naming it. */
export function buildProcessor<C>(factory: ProcessorFactory<string, C>, env: NodeJS.ProcessEnv, services: ProcessorServices): ProcessorSpec {
  return factory.create(factory.config(env), services);
}

/** Keeps the literal name, so the list of factories also gives the type of processor names. */
export const defineProcessor = <N extends string, C>(factory: ProcessorFactory<N, C>): ProcessorFactory<N, C> => factory;
