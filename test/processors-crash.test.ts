import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminSql, adminUrl, runComponent } from './helpers/child.ts';
import { DEFAULT_DETECTOR, emptyState, observe } from '../processors/runtime/detector.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { gaussian, seededRandom } from './helpers/random.ts';

/**
 * Every processor (sink, rollup, detect, correlate) in one child process,
 * SIGKILLed while points stream in, then restarted. Afterwards:
 *  - rollups: the closed windows' counts and sums equal exactly what was sent;
 *  - anomalies: exactly the ones the detector gives when run once over each
 *    series in order (none lost, none doubled, no sample learned twice);
 *  - incidents: exactly one per service that had a deployment and a spike.
 */
const SERVICES = 8;
const INSTANCES = 4;
const SAMPLES = 240; // per series, one per second of event time
const SPIKED = [0, 1, 2]; // services with a deployment, then a latency spike
const SPIKE_AT = 200;

let p: TestPipeline;
let dir: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  p = await startTestPipeline('pcrash', { processors: [] });
  dir = path.join(p.config.dataDir, 'processors');
});
afterAll(async () => {
  child?.kill('SIGKILL');
  await p?.stop();
});

const startProcessors = () => runComponent(p, 'processors', dir);
const sql = <T = Record<string, unknown>>(url: string, query: string) => adminSql<T>(p, url, query);

it('SIGKILL of every processor mid-stream: exact rollups, the same anomalies, one incident per spike', async () => {
  const tenant = p.tenants.a;
  const r = seededRandom(2024);
  const t0 = Math.floor((Date.now() - 30 * 60_000) / 60_000) * 60_000;
  type Point = { timestamp: number; metric_name: string; value: number; labels: { service: string; instance: string } };
  const series = new Map<string, Point[]>();
  const ticks: Point[][] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const tick: Point[] = [];
    for (let svc = 0; svc < SERVICES; svc++) {
      for (let inst = 0; inst < INSTANCES; inst++) {
        const spiked = SPIKED.includes(svc) && s >= SPIKE_AT && s < SPIKE_AT + 3;
        const point = {
          timestamp: t0 + s * 1000,
          metric_name: 'latency_ms',
          value: spiked ? 2000 + s : 100 + 5 * gaussian(r),
          labels: { service: `svc-${svc}`, instance: `i-${inst}` },
        };
        tick.push(point);
        const key = `${point.labels.service}/${point.labels.instance}`;
        series.set(key, [...(series.get(key) ?? []), point]);
      }
    }
    ticks.push(tick);
  }

  child = startProcessors();
  let url = await adminUrl(child, dir);
  let killed = false;
  for (let s = 0; s < SAMPLES; s += 10) {
    if (s === SPIKE_AT - 20) {
      const deployments = SPIKED.map((svc) => ({ timestamp: t0 + (SPIKE_AT - 30) * 1000, service: `svc-${svc}`, version: `v${svc}.1`, status: 'succeeded' }));
      expect((await p.post('/v1/deployments', deployments)).status).toBe(202);
    }
    expect((await p.post('/v1/metrics', ticks.slice(s, s + 10).flat())).status).toBe(202);
    if (!killed && s >= 100) {
      const [{ n }] = (await sql<{ n: string }>(url, `SELECT count() AS n FROM metric_rollups FINAL WHERE tenant = '${tenant}'`)) as [{ n: string }];
      if (Number(n) > 0) {
        child.kill('SIGKILL');
        killed = true;
      }
    }
    await sleep(50);
  }
  expect(killed).toBe(true);
  // Event time moves on by five minutes: every window of the stream closes.
  const closer = Array.from({ length: SERVICES * INSTANCES }, (_, i) => ({
    timestamp: t0 + (SAMPLES + 300) * 1000,
    metric_name: 'closer',
    value: 0,
    labels: { service: `svc-${i % SERVICES}`, instance: 'c' },
  }));
  expect((await p.post('/v1/metrics', closer)).status).toBe(202);

  await new Promise((resolve) => (child!.exitCode !== null || child!.signalCode ? resolve(null) : child!.once('exit', resolve)));
  child = startProcessors();
  url = await adminUrl(child, dir);

  // Rollups: every point of the stream in exactly one closed window.
  const all = [...series.values()].flat();
  const rollups = await eventually(
    () =>
      sql<{ n: string; total: number; windows: string }>(
        url,
        `SELECT sum(count) AS n, sum(sum) AS total, count() AS windows FROM metric_rollups FINAL WHERE tenant = '${tenant}' AND metric_name = 'latency_ms'`,
      ),
    (rows) => Number(rows[0]!.n) >= all.length,
    120_000,
  );
  expect(Number(rollups[0]!.n)).toBe(all.length);
  expect(rollups[0]!.total).toBeCloseTo(
    all.reduce((a, x) => a + x.value, 0),
    4,
  );
  expect(Number(rollups[0]!.windows)).toBe(series.size * Math.ceil(SAMPLES / 60));

  // Anomalies: what the detector says when it sees each series once, in order.
  const expected = new Set<string>();
  for (const [key, points] of series) {
    const state = emptyState();
    for (const pt of points) {
      const v = observe(state, pt.timestamp, pt.value, DEFAULT_DETECTOR);
      if (v.anomaly || v.sustained) expected.add(`${key}@${pt.timestamp}`);
    }
  }
  const anomalies = await eventually(
    () =>
      sql<{ k: string }>(
        url,
        `SELECT concat(service, '/', labels['instance'], '@', toString(toUnixTimestamp64Milli(detected_at))) AS k FROM anomalies FINAL WHERE tenant = '${tenant}' AND metric_name = 'latency_ms'`,
      ),
    (rows) => rows.length >= expected.size,
    60_000,
  );
  expect(new Set(anomalies.map((a) => a.k))).toEqual(expected);
  expect(anomalies).toHaveLength(expected.size);

  // Incidents: one per spiked service, each naming its deployment.
  const incidents = await eventually(
    () =>
      sql<{ service: string; ids: string; suspect: string }>(
        url,
        `SELECT service, uniqExact(incident_id) AS ids, any(suspect_version) AS suspect FROM incidents FINAL WHERE tenant = '${tenant}' GROUP BY service ORDER BY service`,
      ),
    (rows) => rows.length >= SPIKED.length && rows.every((x) => x.suspect),
    60_000,
  );
  expect(incidents.map((x) => [x.service, Number(x.ids), x.suspect])).toEqual(SPIKED.map((svc) => [`svc-${svc}`, 1, `v${svc}.1`]));

  child.kill('SIGTERM');
  expect(await new Promise((resolve) => child!.once('exit', (code) => resolve(code)))).toBe(0);
  child = undefined;
}, 300_000);
