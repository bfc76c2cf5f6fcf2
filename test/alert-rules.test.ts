import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';

/**
 * A threshold rule on p99, created through the API, evaluated by the alert
 * processor on the rollups the real rollup processor closes (10 s windows
 * here): it fires once the condition has held for its `for`, resolves on the
 * first good window, and both go to the tenant's webhook and the alerts table.
 */
describe('alert rules on the rollup stream', () => {
  let p: TestPipeline;
  let hook: Receiver;

  beforeAll(async () => {
    hook = await startReceiver();
    p = await startTestPipeline('rules', {
      processors: ['sink', 'rollup', 'alert', 'notify'],
      env: {
        ROLLUP_WINDOW_MS: '10000',
        ROLLUP_LATENESS_MS: '0',
        ALERT_RULES_REFRESH_SECONDS: '0.2',
        ALERT_SWEEP_SECONDS: '0.5',
        NOTIFY_ALLOW_LOOPBACK: 'true',
        NOTIFY_COOLDOWN_SECONDS: '0',
      },
    });
  });
  afterAll(async () => {
    await p?.stop();
    await hook?.close();
  });

  it('fires after its for duration and resolves', async () => {
    expect((await p.post('/v1/notification-targets', { name: 'hook', kind: 'webhook', url: hook.url })).status).toBe(201);
    const rule = await p.post('/v1/alert-rules', {
      name: 'api p99 slow',
      kind: 'threshold',
      service: 'api',
      metric: 'latency_ms',
      field: 'p99',
      op: 'gt',
      value: 500,
      for: '20s',
      severity: 'critical',
    });
    expect(rule.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 500)); // the processor re-reads rules every 0.2 s

    // Event time ten minutes back, on 10 s windows: 30 s fine, 40 s slow, 40 s fine again.
    const T = Math.floor((Date.now() - 10 * 60_000) / 10_000) * 10_000;
    const value = (s: number) => (s >= 30 && s < 70 ? 900 + (s % 7) : 100 + (s % 5));
    const points = Array.from({ length: 110 }, (_, s) => ({
      timestamp: T + s * 1000,
      metric_name: 'latency_ms',
      value: value(s),
      labels: { service: 'api', region: 'eu' },
    }));
    expect((await p.post('/v1/metrics', points)).status).toBe(202);

    const alerts = await eventually(
      () =>
        p.rows<{ status: string; starts_at: string; ends_at: string | null; value: number; source: string; severity: string }>(
          `SELECT status, toUnixTimestamp64Milli(starts_at) AS starts_at, toUnixTimestamp64Milli(ends_at) AS ends_at, value, source, severity
         FROM alerts FINAL WHERE tenant = {t:String} ORDER BY received_at`,
          { t: p.tenants.a },
        ),
      (rows) => rows.some((r) => r.status === 'resolved'),
      60_000,
    );
    expect(alerts.map((a) => a.status)).toEqual(['firing', 'resolved']);
    const [firing, resolved] = alerts;
    expect(firing).toMatchObject({ source: 'rule', severity: 'critical' });
    expect(Number(firing!.starts_at)).toBe(T + 30_000); // when the condition began: the first slow window
    expect(Number(firing!.value)).toBeGreaterThan(500);
    expect(Number(resolved!.ends_at)).toBe(T + 80_000); // the end of the first fine window

    // The webhook heard both, in order.
    await eventually(
      async () => hook.bodies.length,
      (n) => n >= 2,
      30_000,
    );
    expect((hook.bodies as { type: string }[]).map((b) => b.type)).toEqual(['alert.firing', 'alert.resolved']);
  }, 120_000);

  it('resolves what a rule left firing when the rule is deleted', async () => {
    const created = await p.post('/v1/alert-rules', {
      name: 'search count',
      kind: 'threshold',
      service: 'search',
      metric: 'qps',
      field: 'count',
      op: 'gt',
      value: 0,
      for: '0s',
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await new Promise((resolve) => setTimeout(resolve, 500));
    const T = Math.floor((Date.now() - 5 * 60_000) / 10_000) * 10_000;
    const points = Array.from({ length: 30 }, (_, s) => ({ timestamp: T + s * 1000, metric_name: 'qps', value: 5, labels: { service: 'search' } }));
    expect((await p.post('/v1/metrics', points)).status).toBe(202);
    const statuses = () =>
      p.rows<{ status: string }>(`SELECT status FROM alerts FINAL WHERE tenant = {t:String} AND rule_id = {id:String} ORDER BY received_at`, {
        t: p.tenants.a,
        id,
      });
    await eventually(statuses, (rows) => rows.some((r) => r.status === 'firing'), 60_000);

    const deleted = await p.app.request(`/v1/alert-rules/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${p.keys.a}` } });
    expect(deleted.status).toBe(204);
    const after = await eventually(statuses, (rows) => rows.some((r) => r.status === 'resolved'), 30_000);
    expect(after.map((r) => r.status)).toEqual(['firing', 'resolved']);
  }, 120_000);
});
