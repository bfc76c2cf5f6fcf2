import { Counter, type Registry } from 'prom-client';
import { registered } from '../runtime/telemetry.ts';

/** The rollup's own counter, beside the runtime's (received, written, dead letters, errors, lag). */
export function rollupTelemetry(registry: Registry) {
  const name = 'autopilot_processor_late_points_total';
  return {
    latePoints: registered(
      registry,
      name,
      () =>
        new Counter({
          name,
          help: 'Points that arrived after their window closed (kept in metric_late_points)',
          labelNames: ['processor', 'topic'],
          registers: [registry],
        }),
    ),
  };
}
