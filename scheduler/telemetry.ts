import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The scheduler's counters, beside every component's received/sent/errors. */
export function schedulerTelemetry(registry: Registry) {
  return {
    runs: new Counter({
      name: 'autopilot_scheduler_runs_total',
      help: 'Job runs by kind, trigger and outcome (success, failure, timeout, skipped)',
      labelNames: ['kind', 'trigger', 'outcome'],
      registers: [registry],
    }),
    runSeconds: new Histogram({
      name: 'autopilot_scheduler_run_seconds',
      help: 'How long job runs took, by kind',
      labelNames: ['kind'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    }),
    lateness: new Histogram({
      name: 'autopilot_scheduler_start_lateness_seconds',
      help: 'From a tick to the start of its run',
      buckets: [0.05, 0.1, 0.5, 1, 2, 5, 30, 300],
      registers: [registry],
    }),
    ticksElsewhere: new Counter({
      name: 'autopilot_scheduler_ticks_claimed_elsewhere_total',
      help: 'Due ticks another scheduler process had claimed first',
      registers: [registry],
    }),
    ticksSuperseded: new Counter({
      name: 'autopilot_scheduler_ticks_superseded_total',
      help: 'Missed ticks not caught up because a later tick of the same job was due (only the newest is run)',
      registers: [registry],
    }),
    running: new Gauge({ name: 'autopilot_scheduler_running_runs', help: 'Runs in progress in this process', registers: [registry] }),
    jobs: new Gauge({ name: 'autopilot_scheduler_jobs', help: 'Enabled jobs this process schedules', registers: [registry] }),
  };
}

export type SchedulerTelemetry = ReturnType<typeof schedulerTelemetry>;
