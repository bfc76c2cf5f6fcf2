import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The counters every processor has (as Vector's components do): records
 * received, written (sent downstream), dropped (to the dead-letter topic) and
 * errors (failed attempts that will be retried), plus write latency, lag,
 * stalls, and batches given up on.
 */
export function processorTelemetry(registry: Registry) {
  const labelNames = ['processor', 'topic'] as const;
  const metric = <T>(name: string, make: () => T) => registered(registry, name, make);
  return {
    received: metric(
      'autopilot_processor_received_total',
      () =>
        new Counter({
          name: 'autopilot_processor_received_total',
          help: 'Records read from Kafka (a metric batch record counts its samples)',
          labelNames,
          registers: [registry],
        }),
    ),
    written: metric(
      'autopilot_processor_written_total',
      () =>
        new Counter({
          name: 'autopilot_processor_written_total',
          help: 'Records written downstream and committed (a metric batch record counts its samples)',
          labelNames,
          registers: [registry],
        }),
    ),
    deadLettered: metric(
      'autopilot_processor_dead_letters_total',
      () =>
        new Counter({
          name: 'autopilot_processor_dead_letters_total',
          help: 'Records sent to the dead-letter topic',
          labelNames: [...labelNames, 'reason'],
          registers: [registry],
        }),
    ),
    errors: metric(
      'autopilot_processor_errors_total',
      () => new Counter({ name: 'autopilot_processor_errors_total', help: 'Failed write attempts (retried)', labelNames, registers: [registry] }),
    ),
    writeSeconds: metric(
      'autopilot_processor_write_seconds',
      () =>
        new Histogram({
          name: 'autopilot_processor_write_seconds',
          help: 'Time to write one batch downstream',
          labelNames,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
          registers: [registry],
        }),
    ),
    lag: metric(
      'autopilot_processor_consumer_lag',
      () =>
        new Gauge({
          name: 'autopilot_processor_consumer_lag',
          help: 'Records behind the partition high watermark, read from Kafka every few seconds',
          labelNames: [...labelNames, 'partition'],
          registers: [registry],
        }),
    ),
    stalled: metric(
      'autopilot_processor_stalled',
      () =>
        new Gauge({
          name: 'autopilot_processor_stalled',
          help: '1 while a partition has records behind and has made no progress for PROCESSOR_STALL_AFTER_MS',
          labelNames: [...labelNames, 'partition'],
          registers: [registry],
        }),
    ),
    stalls: metric(
      'autopilot_processor_stalls_total',
      () => new Counter({ name: 'autopilot_processor_stalls_total', help: 'Times a partition became stalled', labelNames, registers: [registry] }),
    ),
    gaveUp: metric(
      'autopilot_processor_gave_up_total',
      () =>
        new Counter({
          name: 'autopilot_processor_gave_up_total',
          help: 'Batches dead-lettered after PROCESSOR_MAX_ATTEMPTS attempts failed with an error not known to be transient',
          labelNames,
          registers: [registry],
        }),
    ),
  };
}
export type ProcessorTelemetry = ReturnType<typeof processorTelemetry>;

/** The registry's metric of that name, made on first use: several processors in one process share a registry. */
export function registered<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T) ?? make();
}
