import { Counter, Histogram, type Registry } from 'prom-client';
import { registered } from '../runtime/telemetry.ts';

/** The analyst's own metrics, beside the runtime's (received, written, dead letters, errors, lag). */
export function analyzeTelemetry(registry: Registry) {
  return {
    analysisSeconds: registered(
      registry,
      'autopilot_analysis_seconds',
      () =>
        new Histogram({
          name: 'autopilot_analysis_seconds',
          help: 'Time to analyse an incident, context and model included, by source (llm, rules)',
          labelNames: ['source'],
          buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
          registers: [registry],
        }),
    ),
    analysisFallbacks: registered(
      registry,
      'autopilot_analysis_fallbacks_total',
      () =>
        new Counter({
          name: 'autopilot_analysis_fallbacks_total',
          help: 'Analyses the rules answered because the model failed, by reason',
          labelNames: ['reason'],
          registers: [registry],
        }),
    ),
  };
}
export type AnalyzeTelemetry = ReturnType<typeof analyzeTelemetry>;
