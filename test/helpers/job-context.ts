import { createLogger } from '../../lib/log.ts';
import { guardedRequest } from '../../tenant-config/guarded-http.ts';
import { MAX_JOB_BODY_BYTES, type JobContext } from '../../scheduler/context.ts';
import { stubPublisher, type StubPublisher } from './publisher-stub.ts';

/**
 * A JobContext for a job kind's tests: the real guarded HTTP client (loopback
 * allowed: the stand-ins listen on 127.0.0.1), a publisher that keeps what it
 * is given, and state kept in memory across runs of the same context.
 */
export function testJobContext(
  o: { tenant?: string; jobId?: string; runId?: string; llm?: Partial<JobContext['llm']>; signal?: AbortSignal; now?: () => number } = {},
): JobContext & { publisher: StubPublisher; saved(): unknown } {
  const guard = { allowLoopback: true };
  let state: unknown;
  return {
    tenant: o.tenant ?? 'acme',
    jobId: o.jobId ?? 'job-1',
    runId: o.runId ?? 'run-1',
    signal: o.signal ?? new AbortController().signal,
    now: o.now ?? Date.now,
    http: guardedRequest(guard, { maxBodyBytes: MAX_JOB_BODY_BYTES }),
    guard,
    publisher: stubPublisher(),
    state: {
      get: async <T>() => state as T | undefined,
      set: async <T>(value: T) => {
        state = structuredClone(value);
      },
    },
    llm: { host: 'http://127.0.0.1:9', model: 'stand-in:latest', timeoutMs: 5000, ...o.llm },
    log: createLogger('job-test', 'silent'),
    saved: () => state,
  };
}
