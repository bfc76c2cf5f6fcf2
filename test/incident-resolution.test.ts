import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { gaussian, seededRandom } from './helpers/random.ts';

/**
 * A service that recovers sends no further signal: the correlator's sweep
 * resolves its incident on the wall clock once it has been quiet for the
 * quiet period (3 s here, 15 min by default), as a new version of the same incident.
 */
let p: TestPipeline;

beforeAll(async () => {
  p = await startTestPipeline('resolve', {
    processors: ['sink', 'detect', 'correlate'],
    env: { CORRELATE_QUIET_MINUTES: '0.05', CORRELATE_SWEEP_SECONDS: '0.5', CORRELATE_COOLDOWN_MINUTES: '0.05' },
  });
});
afterAll(async () => p?.stop());

it('resolves a quiet incident and keeps its id', async () => {
  const r = seededRandom(5);
  // Event time well behind the wall clock, so the quiet period has passed by the first sweep after the incident opens.
  const T = Date.now() - 10 * 60_000;
  const point = (at: number, value: number) => ({ timestamp: at, metric_name: 'latency_ms', value, labels: { service: 'recovering' } });
  const steady = Array.from({ length: 60 }, (_, i) => point(T - 60_000 + i * 1000, 100 + 3 * gaussian(r)));
  expect((await p.post('/v1/metrics', steady)).status).toBe(202);
  expect((await p.post('/v1/deployments', { timestamp: T, service: 'recovering', version: 'v5', status: 'succeeded' })).status).toBe(202);
  expect((await p.post('/v1/metrics', [point(T + 1000, 900), point(T + 2000, 950), point(T + 3000, 920)])).status).toBe(202);

  const versions = () =>
    p.rows<{ incident_id: string; version: number; status: string; resolved_at: string | null }>(
      `SELECT incident_id, version, status, toUnixTimestamp64Milli(resolved_at) AS resolved_at FROM incidents WHERE tenant = {t:String} ORDER BY version`,
      { t: p.tenants.a },
    );
  const all = await eventually(versions, (rows) => rows.some((x) => x.status === 'resolved'), 30_000);
  expect(new Set(all.map((x) => x.incident_id)).size).toBe(1);
  // The open version may already be merged away (ReplacingMergeTree keeps the highest version, even
  // within one insert); the resolved one is a later version of the same incident.
  const last = all.at(-1)!;
  expect(last.status).toBe('resolved');
  expect(last.version).toBeGreaterThan(1);
  // Last signal + quiet period, in event time. The three slow samples are one event: raised at T + 1 s, reported
  // again as sustained at T + 2 s (its second surprising sample), and nothing more for the third.
  expect(Number(last.resolved_at)).toBe(T + 2000 + 3000);
  const [current] = await p.rows<{ status: string }>('SELECT status FROM incidents FINAL WHERE tenant = {t:String}', { t: p.tenants.a });
  expect(current!.status).toBe('resolved');
});
