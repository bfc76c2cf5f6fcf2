import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/log.ts';
import { JobTriggers } from '../platform/job-triggers.ts';
import type { JobRun } from '../schemas/topics.ts';
import type { StoredDocument } from '../sql/stores/documents.ts';
import { parseJob, type Job } from '../tenant-config/jobs.ts';
import { stubPublisher } from '../test/helpers/publisher-stub.ts';
import { throwawayRedisPerFile } from '../test/helpers/redis-server.ts';
import type { SchedulerConfig } from './config.ts';
import { startScheduler } from './scheduler.ts';
import { schedulerTelemetry } from './telemetry.ts';

/**
 * The scheduler's handling of time on a real redis-server, with a probe
 * target that takes 2.5 s to answer a job that ticks every second: overlap
 * skip and queue, and a restart that catches up the newest missed tick only.
 * (Exactly-once across two schedulers, and a killed one, are in
 * test/scheduler.test.ts on the whole stack.)
 */
const redis = throwawayRedisPerFile();
let server: Server;
let slowUrl: string;
beforeAll(async () => {
  server = createServer((_req, res) => void setTimeout(() => res.end('ok'), 2500));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  slowUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const CONFIG: SchedulerConfig = {
  tickMs: 50,
  refreshMs: 100,
  graceMs: 60_000,
  leaseMs: 2000,
  concurrency: 8,
  allowLoopback: true,
  llm: { host: 'http://127.0.0.1:9', model: 'none', timeoutMs: 1000 },
};

function job(over: Record<string, unknown>, updatedAt = Date.now()): StoredDocument<Job> {
  const definition = parseJob(
    { name: 'slow health', schedule: '* * * * * *', kind: 'http_probe', params: { url: slowUrl, service: 'checkout', alert_after: 0 }, ...over },
    { allowLoopback: true },
  );
  return { id: `job-${Math.random().toString(36).slice(2)}`, tenant: 'acme', created_at: updatedAt, updated_at: updatedAt, definition };
}

async function eventuallyRuns(runs: () => JobRun[], n: number): Promise<void> {
  for (const deadline = Date.now() + 15_000; runs().length < n; await sleep(50)) if (Date.now() > deadline) throw new Error(`fewer than ${n} runs`);
}

function scheduler(jobs: StoredDocument<Job>[]) {
  const publisher = stubPublisher();
  const running = startScheduler({
    jobs: async () => jobs,
    redis: redis().client(),
    publisher,
    triggers: new JobTriggers(redis().client()),
    config: CONFIG,
    telemetry: schedulerTelemetry(new Registry()),
    log: createLogger('test-scheduler', 'silent'),
  });
  return { running, runs: () => publisher.records('jobRuns') as JobRun[] };
}

describe('the scheduler, one job ticking faster than it runs', () => {
  it('overlap skip: a tick while the job runs is recorded as skipped, and runs never overlap', { timeout: 30_000 }, async () => {
    const s = scheduler([job({ overlap: 'skip' })]);
    await sleep(7000);
    await s.running.stop();
    const runs = s.runs();
    const done = runs.filter((r) => r.outcome === 'success').sort((a, b) => a.started_at - b.started_at);
    const skipped = runs.filter((r) => r.outcome === 'skipped');
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(skipped.length).toBeGreaterThanOrEqual(2);
    for (const r of skipped) expect(r.error).toBe('the previous run of this job was still going (overlap: skip)');
    for (let i = 1; i < done.length; i++) expect(done[i]!.started_at).toBeGreaterThanOrEqual(done[i - 1]!.ended_at);
    // Every tick is accounted for once: run or skipped.
    const ticks = runs.map((r) => r.scheduled_at);
    expect(new Set(ticks).size).toBe(ticks.length);
  });

  it('overlap queue: one tick waits for the running one and then runs; a further tick is skipped as already waiting', { timeout: 30_000 }, async () => {
    const s = scheduler([job({ overlap: 'queue' })]);
    await sleep(7000);
    await s.running.stop();
    const runs = s.runs();
    const done = runs.filter((r) => r.outcome === 'success').sort((a, b) => a.started_at - b.started_at);
    for (let i = 1; i < done.length; i++) expect(done[i]!.started_at).toBeGreaterThanOrEqual(done[i - 1]!.ended_at - 50);
    // A queued tick started well after its time: it waited for the run before it.
    expect(done.some((r) => r.started_at - r.scheduled_at > 1000)).toBe(true);
    const skipped = runs.filter((r) => r.outcome === 'skipped');
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    for (const r of skipped) expect(r.error).toBe('a run of this job already waits for the running one (overlap: queue)');
  });

  it('after a restart, the tick missed while no scheduler ran is caught up once, as catch_up', { timeout: 30_000 }, async () => {
    const every4s = job({ schedule: '*/4 * * * * *', params: { url: slowUrl, service: 'checkout', timeout: '100ms', alert_after: 0 } });
    const first = scheduler([every4s]);
    await eventuallyRuns(first.runs, 1);
    await first.running.stop();
    // Wait past the next tick, far enough that it is missed (older than a tick is late) and the one after is not yet due.
    let missed = Math.ceil(Date.now() / 4000) * 4000;
    if (missed - Date.now() < 200) missed += 4000;
    await sleep(missed + 1500 - Date.now());
    const second = scheduler([every4s]);
    await sleep(1000);
    await second.running.stop();
    expect(second.runs().map((r) => [r.trigger, r.scheduled_at])).toEqual([['catch_up', missed]]);
    const all = [...first.runs(), ...second.runs()];
    expect(new Set(all.map((r) => r.scheduled_at)).size).toBe(all.length);
  });
});
