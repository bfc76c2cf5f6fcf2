import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { backOff } from '../lib/backoff.ts';
import { describeError } from '../lib/errors.ts';
import type { HealthCheck } from '../lib/health.ts';
import type { Logger } from '../lib/log.ts';
import { guardedRequest } from '../tenant-config/guarded-http.ts';
import type { JobTriggers, RunRequest as ManualRequest } from '../platform/job-triggers.ts';
import type { Publisher } from '../platform/publisher.ts';
import type { JobRun } from '../schemas/topics.ts';
import type { StoredDocument } from '../sql/stores/documents.ts';
import type { Job } from '../tenant-config/jobs.ts';
import type { SchedulerConfig } from './config.ts';
import { MAX_JOB_BODY_BYTES, type JobState } from './context.ts';
import { DONE, leaseKeys, Leases } from './leases.ts';
import { runJob, skippedRun, tickRunId, type RunDeps, type RunRequest } from './run.ts';
import type { SchedulerTelemetry } from './telemetry.ts';
import { ticksBetween } from './ticks.ts';

export interface SchedulerDeps {
  /** Every tenant's jobs, read again every `refreshMs`. */
  jobs: () => Promise<StoredDocument<Job>[]>;
  redis: Redis;
  publisher: Publisher;
  triggers: JobTriggers;
  config: SchedulerConfig;
  telemetry: SchedulerTelemetry;
  log: Logger;
}

export interface RunningScheduler {
  check: HealthCheck;
  stop(): Promise<void>;
}

/** A tick of a job not yet known to be done, and when to look at it again. */
interface PendingTick {
  at: number;
  recheckAt: number;
  elsewhere: boolean;
}

interface JobSchedule {
  job: StoredDocument<Job>;
  /** Ticks up to here have been listed. */
  horizon: number;
  pending: Map<number, PendingTick>;
  /** A tick of this job waits in this process for the running one to end (overlap queue). */
  waiting: boolean;
}

const jobKey = (tenant: string, id: string) => `${tenant}\u0000${id}`;

/**
 * Runs every tenant's jobs on their schedules, in as many processes as you
 * like, each tick once. Every process lists every job's ticks; the one that
 * claims a tick in Redis runs it (leases.ts). A tick is due from its time
 * on: run on time, or, if no scheduler was up at the time, caught up later
 * when at most SCHEDULER_GRACE_MS old and the newest such tick of its job
 * (missing ten ticks of a 5-second probe is one catch-up run, not ten).
 * A tick whose claimant dies mid-run is free again once its lease expires,
 * and another process takes it. While a job runs, its other ticks are
 * skipped or wait (the job's `overlap`); every tick, skipped ones included,
 * is a JobRun record on Kafka (and a row of job_runs, by the sink).
 */
export function startScheduler(deps: SchedulerDeps): RunningScheduler {
  const { config, telemetry, log } = deps;
  const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leases = new Leases(deps.redis, owner, config.leaseMs);
  const stopping = new AbortController();
  const schedules = new Map<string, JobSchedule>();
  const inFlight = new Set<Promise<void>>();
  /** Ticks and requests this process is running or waiting on, so a loop does not claim them twice. */
  const mine = new Set<string>();
  const guard = { allowLoopback: config.allowLoopback };
  /** How late a tick may start and still count as on time; older ones are catch-up. */
  const onTimeMs = 2 * config.tickMs + 1000;
  /** A done tick is remembered past the grace period, so no later scheduler catches it up. */
  const keepDoneMs = config.graceMs + 2 * config.leaseMs + 60_000;
  let lastLoop = Date.now();
  let lastRefresh = 0;

  const runDeps: RunDeps = {
    publisher: deps.publisher,
    http: guardedRequest(guard, { maxBodyBytes: MAX_JOB_BODY_BYTES }),
    guard,
    llm: config.llm,
    state: (tenant, jobId) => jobState(deps.redis, leaseKeys.state(tenant, jobId)),
    scheduler: owner,
    log,
    stopping: stopping.signal,
  };

  async function refresh(now: number): Promise<void> {
    const jobs = await deps.jobs();
    const seen = new Set<string>();
    for (const job of jobs) {
      const key = jobKey(job.tenant, job.id);
      seen.add(key);
      const s = schedules.get(key);
      // An edited, paused or resumed job starts over from its change: ticks before it are not caught up.
      if (!s || s.job.updated_at !== job.updated_at) {
        schedules.set(key, { job, horizon: Math.max(now - config.graceMs, job.updated_at), pending: new Map(), waiting: s?.waiting ?? false });
      }
    }
    for (const key of schedules.keys()) if (!seen.has(key)) schedules.delete(key);
    telemetry.jobs.set(jobs.filter((j) => j.definition.enabled).length);
  }

  async function loop(): Promise<void> {
    const now = Date.now();
    if (now - lastRefresh >= config.refreshMs) {
      try {
        await refresh(now);
        lastRefresh = now;
      } catch (err) {
        log.warn({ err: describeError(err) }, 'jobs not read; scheduling the ones known');
      }
    }
    for (const s of schedules.values()) {
      if (!s.job.definition.enabled) continue;
      for (const at of ticksBetween(s.job.definition, s.horizon, now)) s.pending.set(at, { at, recheckAt: at, elsewhere: false });
      s.horizon = now;
      await considerTicks(s, now);
    }
    await considerManual(now);
    lastLoop = Date.now();
  }

  async function considerTicks(s: JobSchedule, now: number): Promise<void> {
    const { tenant, id } = s.job;
    for (const t of [...s.pending.values()]) {
      if (t.at < now - config.graceMs) s.pending.delete(t.at);
    }
    const ticks = [...s.pending.values()].sort((a, b) => a.at - b.at);
    const onTime = ticks.filter((t) => now - t.at <= onTimeMs);
    const missed = ticks.filter((t) => now - t.at > onTimeMs);
    // Of the missed ticks only the newest is caught up, and none if one is on time.
    const candidates = onTime.length ? onTime : missed.slice(-1);
    for (const t of missed) {
      if (!candidates.includes(t)) {
        s.pending.delete(t.at);
        if (!t.elsewhere) telemetry.ticksSuperseded.inc();
      }
    }
    for (const t of candidates) {
      const key = leaseKeys.tick(tenant, id, t.at);
      if (t.recheckAt > now || mine.has(key)) continue;
      if (inFlight.size >= config.concurrency) return; // busy: another process may take it; if none does, the next loop will
      if (await leases.claim(key)) {
        s.pending.delete(t.at);
        const trigger = now - t.at > onTimeMs ? 'catch_up' : 'schedule';
        start(key, { job: s.job, trigger, scheduledAt: t.at, runId: tickRunId(tenant, id, t.at) }, s);
        continue;
      }
      const holder = await leases.holder(key);
      if (holder === null) continue; // expired between the two calls: the next loop claims it
      if (holder.startsWith(DONE)) {
        s.pending.delete(t.at);
        continue;
      }
      if (!t.elsewhere) telemetry.ticksElsewhere.inc();
      // Held by another process: look again when its lease could have expired, in case that process died.
      t.elsewhere = true;
      t.recheckAt = now + config.leaseMs / 2;
    }
  }

  async function considerManual(now: number): Promise<void> {
    const requests = await deps.triggers.waiting();
    for (const r of requests) {
      const key = leaseKeys.manual(r.tenant, r.job_id, r.request_id);
      if (mine.has(key)) continue;
      const s = schedules.get(jobKey(r.tenant, r.job_id));
      if (!s) {
        // Deleted since it was asked for (or not read yet: give the refresh a few rounds).
        if (now - r.requested_at > 3 * config.refreshMs + config.tickMs) await deps.triggers.remove(r);
        continue;
      }
      if (inFlight.size >= config.concurrency) return;
      if (await leases.claim(key)) {
        start(key, { job: s.job, trigger: 'manual', scheduledAt: r.requested_at, runId: r.request_id }, s, r);
      } else if ((await leases.holder(key))?.startsWith(DONE)) {
        await deps.triggers.remove(r); // its runner finished and died before removing it
      }
    }
  }

  function start(claimKey: string, r: RunRequest, s: JobSchedule, manual?: ManualRequest): void {
    mine.add(claimKey);
    const task = execute(claimKey, r, s)
      .then(async (finished) => {
        if (finished && manual) await deps.triggers.remove(manual);
      })
      .catch((err) => log.error({ err: describeError(err), job_id: r.job.id }, 'job run not recorded; its tick is retried once its lease expires'))
      .finally(() => {
        mine.delete(claimKey);
        inFlight.delete(task);
        telemetry.running.set(inFlight.size);
      });
    inFlight.add(task);
    telemetry.running.set(inFlight.size);
  }

  /** Runs a claimed tick: takes the job's running lock (or skips, or waits), runs, records, marks done. True once recorded. */
  async function execute(claimKey: string, r: RunRequest, s: JobSchedule): Promise<boolean> {
    const runningKey = leaseKeys.running(r.job.tenant, r.job.id);
    let locked = await leases.claim(runningKey);
    if (!locked) {
      const def = r.job.definition;
      if (def.overlap === 'skip' || s.waiting) {
        const why =
          def.overlap === 'skip'
            ? 'the previous run of this job was still going (overlap: skip)'
            : 'a run of this job already waits for the running one (overlap: queue)';
        return record(claimKey, skippedRun(r, owner, why));
      }
      s.waiting = true;
      try {
        while (!locked) {
          await sleep(config.tickMs, undefined, { signal: stopping.signal }).catch(() => undefined);
          if (stopping.signal.aborted) {
            await leases.release(claimKey);
            return false;
          }
          await leases.renew(claimKey);
          locked = await leases.claim(runningKey);
        }
      } finally {
        s.waiting = false;
      }
    }
    const heartbeat = setInterval(() => {
      for (const key of [claimKey, runningKey]) {
        leases.renew(key).then(
          (held) => held || log.warn({ key }, 'a lease was lost while its run went on: another scheduler may run it too'),
          (err) => log.warn({ key, err: describeError(err) }, 'lease not renewed'),
        );
      }
    }, config.leaseMs / 3);
    try {
      telemetry.lateness.observe(Math.max(0, Date.now() - r.scheduledAt) / 1000);
      const run = await runJob(r, runDeps);
      if (stopping.signal.aborted) {
        // Stopped mid-run: not recorded, so the tick is free for another scheduler (within the grace period).
        await leases.release(claimKey);
        return false;
      }
      telemetry.runSeconds.observe({ kind: run.kind }, (run.ended_at - run.started_at) / 1000);
      return await record(claimKey, run);
    } finally {
      clearInterval(heartbeat);
      await leases.release(runningKey).catch(() => undefined);
    }
  }

  /** Publishes a run's record, then marks its tick done: a crash in between runs the tick again, with the same run id. */
  async function record(claimKey: string, run: JobRun): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await deps.publisher.publish('jobRuns', [run]);
        break;
      } catch (err) {
        if (attempt >= 4 || stopping.signal.aborted) throw err;
        await backOff(attempt, { initialMs: 500, maxMs: 5000 });
      }
    }
    telemetry.runs.inc({ kind: run.kind, trigger: run.trigger, outcome: run.outcome });
    await leases.finish(claimKey, run.run_id, keepDoneMs);
    return true;
  }

  let looping: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    looping = looping.then(loop).catch((err) => log.warn({ err: describeError(err) }, 'scheduler loop failed; the next one retries'));
  }, config.tickMs);
  log.info({ owner, tick_ms: config.tickMs, grace_ms: config.graceMs, lease_ms: config.leaseMs }, 'scheduler started');

  return {
    check: {
      name: 'scheduler',
      check: async () => {
        const since = Date.now() - lastLoop;
        if (since > Math.max(5 * config.tickMs, 10_000)) throw new Error(`no scheduling round for ${since} ms`);
      },
    },
    async stop() {
      clearInterval(timer);
      await looping;
      // Runs in progress get a moment to finish and be recorded; the rest are stopped and left to another scheduler.
      await Promise.race([Promise.all(inFlight), sleep(5000)]);
      stopping.abort(new Error('scheduler stopping'));
      await Promise.all(inFlight);
      log.info('scheduler stopped');
    },
  };
}

/** A job's state between runs, as JSON in Redis; kept 30 days after its last write. */
function jobState(redis: Redis, key: string): JobState {
  return {
    async get<T>() {
      const text = await redis.get(key);
      return text === null ? undefined : (JSON.parse(text) as T);
    },
    async set<T>(value: T) {
      await redis.set(key, JSON.stringify(value), 'PX', 30 * 86_400_000);
    },
  };
}
