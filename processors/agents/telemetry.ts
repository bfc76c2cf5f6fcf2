import { Counter, type Registry } from 'prom-client';
import { registered } from '../runtime/telemetry.ts';

/** The agents processor's own counter, beside the runtime's (received, written, dead letters, errors, lag). */
export function agentsTelemetry(registry: Registry) {
  const name = 'autopilot_agent_calls_priced_total';
  return {
    priced: registered(
      registry,
      name,
      () =>
        new Counter({
          name,
          help: 'Agent calls priced, by where the cost came from (event, price_table, unknown)',
          labelNames: ['cost_source'],
          registers: [registry],
        }),
    ),
  };
}
