import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * A threshold alert whose series stops while firing: the real rollup
 * processor closes 10 s windows of a p99 that breaches, the alert processor
 * fires, then no more points come. With a 4 s staleness the sweep resolves
 * the alert as stale: value null, `resolved_reason: stale`, ends_at the last
 * window's end + 4 s (event time).
 *
 * On the code before this change a threshold alert resolved only on data,
 * so it stayed firing and the wait below timed out (and
 * ALERT_STALENESS_SECONDS was refused as an unknown variable).
 */
const STALE_MS = 4000;
let p: TestPipeline;

beforeAll(async () => {
  p = await startTestPipeline('stale', {
    processors: ['sink', 'rollup', 'alert'],
    env: {
      ROLLUP_WINDOW_MS: '10000',
      ROLLUP_LATENESS_MS: '0',
      ALERT_RULES_REFRESH_SECONDS: '0.2',
      ALERT_SWEEP_SECONDS: '0.5',
      ALERT_STALENESS_SECONDS: String(STALE_MS / 1000),
    },
  });
});
afterAll(async () => {
  await p?.stop();
});

it('a firing threshold alert resolves when its series goes stale', async () => {
  const rule = await p.post('/v1/alert-rules', {
    name: 'api p99 slow',
    kind: 'threshold',
    service: 'api',
    metric: 'latency_ms',
    field: 'p99',
    op: 'gt',
    value: 500,
    for: '10s',
    severity: 'critical',
  });
  expect(rule.status).toBe(201);
  await new Promise((resolve) => setTimeout(resolve, 500)); // the processor re-reads rules every 0.2 s

  // Event time ten minutes back, on 10 s windows: 40 s of slow points, then the series stops.
  const T = Math.floor((Date.now() - 10 * 60_000) / 10_000) * 10_000;
  const points = Array.from({ length: 40 }, (_, s) => ({
    timestamp: T + s * 1000,
    metric_name: 'latency_ms',
    value: 900 + (s % 7),
    labels: { service: 'api', region: 'eu' },
  }));
  expect((await p.post('/v1/metrics', points)).status).toBe(202);

  type Row = { status: string; starts_at: string; ends_at: string | null; value: number | null; reason: string; summary: string };
  const alerts = await eventually(
    () =>
      p.rows<Row>(
        `SELECT status, toUnixTimestamp64Milli(starts_at) AS starts_at, toUnixTimestamp64Milli(ends_at) AS ends_at, value,
              annotations['resolved_reason'] AS reason, annotations['summary'] AS summary
       FROM alerts FINAL WHERE tenant = {t:String} ORDER BY received_at`,
        { t: p.tenants.a },
      ),
    (rows) => rows.some((r) => r.status === 'resolved'),
    60_000,
  );
  expect(alerts.map((a) => a.status)).toEqual(['firing', 'resolved']);
  const [firing, resolved] = alerts;
  expect(Number(firing!.starts_at)).toBe(T);
  expect(Number(firing!.value)).toBeGreaterThan(500);
  expect(resolved).toMatchObject({ value: null, reason: 'stale' });
  expect(resolved!.summary).toContain('the series went stale');
  // The window [T+30 s, T+40 s) closes only if later points reach its partition (another test file's, say): either may be the last.
  expect([T + 30_000, T + 40_000]).toContain(Number(resolved!.ends_at) - STALE_MS);
}, 120_000);
