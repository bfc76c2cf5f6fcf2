import type { Logger } from '../lib/log.ts';
import type { RequestFn } from '../tenant-config/guarded-http.ts';
import type { Publisher } from '../platform/publisher.ts';
import type { JobKind, JobOf } from '../tenant-config/jobs.ts';
import type { GuardOptions } from '../tenant-config/url-guard.ts';

/**
 * What a job kind's runner is given: the job, its run, and the ways out of
 * the process. Every outgoing request goes through `http` (or, for crawlee,
 * through `guard`), so no job reaches an address a notification could not.
 */
export interface JobContext {
  tenant: string;
  jobId: string;
  runId: string;
  /** Aborted when the run's timeout passes or the scheduler stops. */
  signal: AbortSignal;
  now(): number;
  /** GET/HEAD/POST through the URL guard; bodies read up to MAX_JOB_BODY_BYTES. */
  http: RequestFn;
  guard: GuardOptions;
  publisher: Publisher;
  /** What the job keeps from run to run (a status page's last state, its ETag), in Redis. */
  state: JobState;
  /** The model for extraction: OLLAMA_HOST and SCHEDULER_MODEL, or the job's own. */
  llm: { host: string; model: string; timeoutMs: number };
  log: Logger;
}

export interface JobState {
  get<T>(): Promise<T | undefined>;
  set<T>(value: T): Promise<void>;
}

/** How a run went, for its record: how many items it produced, and its own account (JSON). */
export interface JobResult {
  items: number;
  details: Record<string, unknown>;
}

/** A kind's runner. A thrown error is the run's failure; what it observed (a failing probe) is a result, not an error. */
export type JobRunner<K extends JobKind> = (job: JobOf<K>, ctx: JobContext) => Promise<JobResult>;

/** A status page, a feed, a scraped page: larger than a webhook's answer, still bounded. */
export const MAX_JOB_BODY_BYTES = 5 * 1024 * 1024;
