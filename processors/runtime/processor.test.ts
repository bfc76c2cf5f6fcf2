import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { unavailable } from '../../lib/errors.ts';
import { createLogger } from '../../lib/log.ts';
import { createRegistry } from '../../lib/metrics.ts';
import { createPublisher, type Publisher } from '../../platform/publisher.ts';
import { connectServices, type Services } from '../../platform/services.ts';
import type { DeploymentEvent } from '../../schemas/topics.ts';
import { readDeadLetters } from '../../test/helpers/dead-letters.ts';
import { eventually } from '../../test/helpers/pipeline.ts';
import { DEFAULT_RUNTIME } from './config.ts';
import { startProcessor, type RunningProcessor } from './processor.ts';
import { processorTelemetry } from './telemetry.ts';

/**
 * The consume loop on real Kafka, with a handler that fails on purpose for
 * some partitions: a failing partition holds up only itself; an error not
 * known to be transient is given up on after PROCESSOR_MAX_ATTEMPTS and its
 * records dead-lettered; a partition that cannot progress is reported
 * stalled (readiness fails, lag reads what Kafka holds) until it recovers.
 * On the earlier loop (retry in place, lag set per committed batch) the
 * healthy partition waited for the failing one, nothing was ever given up,
 * and lag read 0 throughout.
 */
describe('consume loop under failure', () => {
  const run = randomUUID().slice(0, 8);
  const topic = `test.runtime-${run}`;
  const log = createLogger('test-runtime');
  const registry = createRegistry('test-runtime');
  const telemetry = processorTelemetry(registry);
  const failing = new Map<number, 'unknown' | 'transient'>();
  const handled: { partition: number; version: string }[] = [];
  let services: Services;
  let producer: Producer;
  let publisher: Publisher;
  let processor: RunningProcessor;

  const send = async (partition: number, version: string) => {
    const event: DeploymentEvent = { tenant: `t-${run}`, service: 'svc', timestamp: Date.now(), version, status: 'succeeded', metadata: {} };
    await producer.send({ topic, acks: -1, messages: [{ partition, key: `${run}-${version}`, value: services.catalog.encode('deployments', event) }] });
  };
  const gauge = async (name: string, partition: number) =>
    (await registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.topic === topic && v.labels.partition === String(partition))?.value;

  beforeAll(async () => {
    const config = loadConfig(process.env);
    services = await connectServices(config, log, { clientId: `test-runtime-${run}`, clickhouse: false });
    const admin = services.kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: -1 }] });
    await admin.disconnect();
    producer = services.kafka.producer();
    await producer.connect();
    publisher = await createPublisher(services.kafka, services.catalog, log);
    processor = await startProcessor(
      {
        name: 'flaky',
        groupId: `test-runtime-${run}`,
        topics: [topic],
        handle: async (batch) => {
          const mode = failing.get(batch[0]!.partition);
          if (mode === 'unknown') throw new Error('boom: not a known kind of trouble');
          if (mode === 'transient') throw unavailable('dependency down');
          for (const d of batch) handled.push({ partition: d.partition, version: (d.value as DeploymentEvent).version });
          return { rejected: [] };
        },
      },
      {
        kafka: services.kafka,
        catalog: services.catalog,
        publisher,
        log,
        telemetry,
        runtime: { ...DEFAULT_RUNTIME, maxAttempts: 3, maxBackoffMs: 200, stallAfterMs: 1500, lagIntervalMs: 200 },
      },
    );
  });
  afterAll(async () => {
    await processor?.stop();
    await producer?.disconnect();
    await publisher?.close();
    await services?.close();
  });

  it('a partition failing with an unknown error holds up only itself, and is given up on after the last attempt', async () => {
    failing.set(0, 'unknown');
    await send(0, 'poison');
    await send(1, 'healthy');
    await eventually(
      async () => handled.map((h) => h.version),
      (v) => v.includes('healthy'),
      10_000,
    );

    const [letter] = await readDeadLetters(services.kafka, (d) => d.key === `${run}-poison`, 1);
    expect(letter!.reason).toBe('gave up after 3 attempts: boom: not a known kind of trouble');
    expect(letter!.processor).toBe('flaky');
    expect(handled.map((h) => h.version)).not.toContain('poison');

    // The partition moved on: its next record is handled.
    failing.delete(0);
    await send(0, 'after');
    await eventually(
      async () => handled.map((h) => h.version),
      (v) => v.includes('after'),
      10_000,
    );
  });

  it('a partition held by a transient failure is retried without limit, reported stalled with its true lag, and recovers', async () => {
    failing.set(2, 'transient');
    await send(2, 'waiting-1');
    await send(2, 'waiting-2');
    await eventually(
      () =>
        processor.check.check().then(
          () => 'ready',
          (e: Error) => e.message,
        ),
      (m) => m.includes('2 records behind'),
      15_000,
    );
    expect(await gauge('autopilot_processor_consumer_lag', 2)).toBe(2);
    expect(await gauge('autopilot_processor_stalled', 2)).toBe(1);
    expect(handled.filter((h) => h.partition === 2)).toEqual([]);

    failing.delete(2);
    await eventually(
      async () => handled.filter((h) => h.partition === 2).map((h) => h.version),
      (v) => v.length === 2,
      10_000,
    );
    await eventually(
      () =>
        processor.check.check().then(
          () => 'ready',
          (e: Error) => e.message,
        ),
      (m) => m === 'ready',
      10_000,
    );
    expect(await gauge('autopilot_processor_consumer_lag', 2)).toBe(0);
    expect(await gauge('autopilot_processor_stalled', 2)).toBe(0);
    // Retried, never given up: no dead letter for these.
    expect((await registry.getSingleMetric('autopilot_processor_gave_up_total')!.get()).values.reduce((s, v) => s + v.value, 0)).toBe(1);
  });
});
