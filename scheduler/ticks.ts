import { Cron } from 'croner';
import type { Job } from '../tenant-config/jobs.ts';

/** At most this many ticks are listed for one job in one look (a 1-second schedule over a long grace). */
const MAX_TICKS = 1000;

/**
 * The ticks of a job's schedule in (from, to], oldest first, in its time zone.
 * croner reads 5 fields as minute-first and 6 as seconds-first, as the job's
 * contract says.
 */
export function ticksBetween(job: Pick<Job, 'schedule' | 'timezone'>, from: number, to: number): number[] {
  const cron = new Cron(job.schedule, { timezone: job.timezone, paused: true });
  const ticks: number[] = [];
  let next = cron.nextRun(new Date(from));
  while (next && next.getTime() <= to && ticks.length < MAX_TICKS) {
    ticks.push(next.getTime());
    next = cron.nextRun(next);
  }
  return ticks;
}
