import { Counter, Gauge, type Registry } from 'prom-client';
import { registered } from '../runtime/telemetry.ts';

/**
 * The sink's own figures, beside the runtime's: rows in ClickHouse per table
 * (the runtime counts records handled, and a gathered row is handled before
 * it is written), and rows gathered and waiting for their insert.
 */
export function sinkTelemetry(registry: Registry) {
  const written = 'autopilot_sink_rows_written_total';
  const waiting = 'autopilot_sink_rows_gathered';
  return {
    rowsWritten: registered(
      registry,
      written,
      () => new Counter({ name: written, help: 'Rows inserted into ClickHouse, by table', labelNames: ['table'], registers: [registry] }),
    ),
    rowsGathered: registered(
      registry,
      waiting,
      () => new Gauge({ name: waiting, help: 'Rows gathered for a large insert and not yet written, by table', labelNames: ['table'], registers: [registry] }),
    ),
  };
}
export type SinkTelemetry = ReturnType<typeof sinkTelemetry>;
