import { createHash } from 'node:crypto';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { RequestFn } from '../tenant-config/guarded-http.ts';
import type { Publisher } from '../platform/publisher.ts';
import type { StoredDocument } from '../sql/stores/documents.ts';
import type { JobRun } from '../schemas/topics.ts';
import { durationMs } from '../tenant-config/duration.ts';
import type { Job } from '../tenant-config/jobs.ts';
import type { GuardOptions } from '../tenant-config/url-guard.ts';
import type { JobContext, JobResult, JobRunner, JobState } from './context.ts';
import { RUNNERS } from './kinds/index.ts';

/** What a run needs from the scheduler that starts it. */
export interface RunDeps {
  publisher: Publisher;
  http: RequestFn;
  guard: GuardOptions;
  llm: JobContext['llm'];
  state: (tenant: string, jobId: string) => JobState;
  /** Who runs it (host:pid), for the record. */
  scheduler: string;
  log: Logger;
  /** Aborted when the scheduler stops. */
  stopping: AbortSignal;
}

export interface RunRequest {
  job: StoredDocument<Job>;
  trigger: JobRun['trigger'];
  scheduledAt: number;
  runId: string;
}

/** A scheduled tick's run id, the same in every scheduler: a tick run again after its first runner died is the same run. */
export function tickRunId(tenant: string, jobId: string, at: number): string {
  return createHash('sha256').update(`${tenant}\u0000${jobId}\u0000${at}`).digest('hex').slice(0, 32);
}

/** A run stopped at its timeout gets this long to wind down before it is recorded as timed out anyway. */
const WIND_DOWN_MS = 5000;

/**
 * Runs one job once and returns its record (not yet published: the caller
 * publishes it, then marks the tick done). The run is given the job's
 * timeout as an abort signal; one that ignores it is recorded as timed out
 * after a short wind-down, and what it does later is not waited for.
 */
export async function runJob(r: RunRequest, deps: RunDeps): Promise<JobRun> {
  const { job } = r;
  const def = job.definition;
  const started = Date.now();
  const timeoutMs = durationMs(def.timeout);
  const timedOut = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([timedOut, deps.stopping]);
  const ctx: JobContext = {
    tenant: job.tenant,
    jobId: job.id,
    runId: r.runId,
    signal,
    now: Date.now,
    http: deps.http,
    guard: deps.guard,
    publisher: deps.publisher,
    state: deps.state(job.tenant, job.id),
    llm: deps.llm,
    log: deps.log.child({ tenant: job.tenant, job_id: job.id, run_id: r.runId, kind: def.kind }),
  };
  let outcome: JobRun['outcome'] = 'success';
  let error: string | null = null;
  let result: JobResult = { items: 0, details: {} };
  try {
    const runner = RUNNERS[def.kind] as JobRunner<typeof def.kind>;
    result = await untilAbortedPlus(runner(def as never, ctx), signal, WIND_DOWN_MS);
  } catch (err) {
    outcome = timedOut.aborted ? 'timeout' : 'failure';
    error = timedOut.aborted ? `did not finish within ${def.timeout}` : describeError(err);
    ctx.log.warn({ err: error }, 'job run failed');
  }
  return {
    run_id: r.runId,
    tenant: job.tenant,
    job_id: job.id,
    job_name: def.name,
    kind: def.kind,
    trigger: r.trigger,
    scheduled_at: r.scheduledAt,
    started_at: started,
    ended_at: Date.now(),
    outcome,
    error,
    items: result.items,
    details: JSON.stringify(result.details),
    scheduler: deps.scheduler,
  };
}

/** A tick that was not run because the job was still running (overlap skip, or a second waiting tick). */
export function skippedRun(r: RunRequest, scheduler: string, why: string): JobRun {
  const now = Date.now();
  const def = r.job.definition;
  return {
    run_id: r.runId,
    tenant: r.job.tenant,
    job_id: r.job.id,
    job_name: def.name,
    kind: def.kind,
    trigger: r.trigger,
    scheduled_at: r.scheduledAt,
    started_at: now,
    ended_at: now,
    outcome: 'skipped',
    error: why,
    items: 0,
    details: '{}',
    scheduler,
  };
}

/** `work`, or a rejection once `signal` has been aborted for `graceMs` and `work` has still not settled. */
function untilAbortedPlus<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason ?? new Error('aborted')), graceMs);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
