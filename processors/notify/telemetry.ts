import { Counter, type Registry } from 'prom-client';
import { registered } from '../runtime/telemetry.ts';

/** The notifier's own counter, beside the runtime's (received, written, dead letters, errors, lag). */
export function notifyTelemetry(registry: Registry) {
  const name = 'autopilot_notifications_total';
  return {
    outcomes: registered(
      registry,
      name,
      () =>
        new Counter({
          name,
          help: 'Notification deliveries by outcome (delivered, failed, suppressed), target kind and reason',
          labelNames: ['outcome', 'target_kind', 'reason'],
          registers: [registry],
        }),
    ),
  };
}
