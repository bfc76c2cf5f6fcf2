import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminSql, adminUrl, runComponent } from './helpers/child.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * The sink runs as its own process (`autopilot run sink`) and is killed with
 * SIGKILL while points stream in. After a restart, ClickHouse holds exactly
 * the acknowledged points: none lost (every 202 is counted), none doubled
 * (rows re-inserted after the crash collapse on their content: series and
 * timestamp). Every point is a distinct sample: its own timestamp per series.
 */
const BATCHES = 40;
const PER_BATCH = 500;

let p: TestPipeline;
let sinkDir: string;
let sink: ChildProcess | undefined;

beforeAll(async () => {
  p = await startTestPipeline('crash', { processors: [] });
  sinkDir = path.join(p.config.dataDir, 'sink');
});
afterAll(async () => {
  sink?.kill('SIGKILL');
  await p?.stop();
});

const startSink = () => runComponent(p, 'sink', sinkDir);
const sinkUrl = (child: ChildProcess) => adminUrl(child, sinkDir, 60_000);
const sql = async (url: string, query: string) => (await adminSql(p, url, query))[0]!;

it('SIGKILL mid-stream, restart: exactly the acknowledged rows', async () => {
  const tenant = p.tenants.a;
  const figures = `SELECT count() AS final_rows, sum(value) AS total,
      (SELECT count() FROM metric_points WHERE tenant = '${tenant}') AS raw_rows,
      (SELECT uniqExact(service, timestamp) FROM metric_points WHERE tenant = '${tenant}') AS samples
    FROM metric_points FINAL WHERE tenant = '${tenant}'`;

  sink = startSink();
  let url = await sinkUrl(sink);

  let acknowledged = 0;
  let expectedTotal = 0;
  let killedAt = -1;
  const start = Date.now() - BATCHES * PER_BATCH;
  for (let b = 0; b < BATCHES; b++) {
    const points = Array.from({ length: PER_BATCH }, (_, i) => ({
      timestamp: start + b * PER_BATCH + i,
      metric_name: 'crash_test',
      value: b * PER_BATCH + i,
      labels: { service: `svc-${i % 7}` },
    }));
    const res = await p.post('/v1/metrics', points);
    expect(res.status).toBe(202);
    acknowledged += PER_BATCH;
    expectedTotal += points.reduce((s, x) => s + x.value, 0);

    // Kill once the sink has written part of the stream, so the crash lands mid-stream.
    if (killedAt < 0 && b >= 10) {
      const { final_rows } = await sql(url, figures);
      if (Number(final_rows) > 0) {
        sink.kill('SIGKILL');
        killedAt = Number(final_rows);
      }
    }
    await sleep(20);
  }
  expect(killedAt).toBeGreaterThan(0);
  expect(killedAt).toBeLessThan(acknowledged);
  await new Promise((resolve) => (sink!.exitCode !== null || sink!.signalCode ? resolve(null) : sink!.once('exit', resolve)));
  expect(sink.signalCode).toBe('SIGKILL');

  sink = startSink();
  url = await sinkUrl(sink);
  const done = await eventually(
    () => sql(url, figures),
    (r) => Number(r.final_rows) >= acknowledged,
    120_000,
  );
  expect(Number(done.final_rows)).toBe(acknowledged);
  // Distinct samples among the raw rows, merged or not (rows of one batch record share its Kafka position).
  expect(Number(done.samples)).toBe(acknowledged);
  expect(Number(done.total)).toBe(expectedTotal);
  // Rows inserted twice (insert done, commit lost) may sit unmerged; FINAL and every merge count them once.
  expect(Number(done.raw_rows)).toBeGreaterThanOrEqual(acknowledged);

  sink.kill('SIGTERM');
  const code = await new Promise((resolve) => sink!.once('exit', (c) => resolve(c)));
  expect(code).toBe(0);
  sink = undefined;
}, 300_000);
