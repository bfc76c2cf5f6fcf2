import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '../../sql/client.ts';
import { migrate } from '../../sql/migrate.ts';
import { loadContext, renderContext } from './context.ts';
import { context, incident, MIN, T } from '../../test/fixtures/analysis.ts';
import { statusChange } from '../../test/fixtures/status-changes.ts';

// A quote in the tenant proves every value travels as a query parameter.
const TENANT = "o'brien";

describe('loadContext on the embedded engine', () => {
  let ch: ClickHouseClient;
  beforeAll(async () => {
    ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-analyze-')) });
    await migrate(ch);
    await seed(ch);
  });
  afterAll(async () => ch?.close());

  it('reads the incident’s anomalies, recent error logs, deployments and firing alerts of its service only', async () => {
    const inc = incident({ tenant: TENANT });
    const ctx = await loadContext(ch, inc, T + 10 * MIN);

    expect(ctx.incident).toBe(inc);
    // an-1 and an-2 by id, an-3 by the window; the old one, another service's and another tenant's are not read.
    expect(ctx.anomalies.map((a) => [a.metric, a.at])).toEqual([
      ['latency_ms', T + 3 * MIN],
      ['error_rate', T + 5 * MIN],
      ['latency_ms', T + 6 * MIN],
    ]);
    expect(ctx.anomalies[0]).toEqual({
      metric: 'latency_ms',
      kind: 'metric',
      labels: { route: '/pay' },
      value: 812,
      baseline: 120,
      z: 8.1,
      severity: 'critical',
      at: T + 3 * MIN,
    });
    expect(ctx.anomalies[1]!.kind).toBe('error_rate');

    // error and fatal in the 10 minutes up to the last signal, oldest first.
    expect(ctx.errorLogs.map((l) => [l.level, l.message, l.at])).toEqual([
      ['fatal', 'payment worker crashed', T + MIN],
      ['error', '[db-pool] connection refused to 10.0.3.7:5432', T + 7 * MIN],
    ]);
    expect(ctx.errorLogs[1]!.labels).toEqual({ component: 'db-pool' });

    // 30 minutes before it opened, and during it (the rollback).
    expect(ctx.deployments.map((d) => [d.version, d.status, d.at])).toEqual([
      ['v2.3.9', 'succeeded', T - 20 * MIN],
      ['v2.4.0', 'succeeded', T],
      ['v2.3.9', 'rollback', T + 7 * MIN],
    ]);
    expect(ctx.deployments[1]!.metadata).toEqual({ commit: '3f78685' });

    // Latest state per fingerprint as of `now`: f1 resolved since, f3 arrived after now, f4 is another service.
    expect(ctx.alerts.map((a) => [a.name, a.status, a.severity, a.summary, a.at])).toEqual([
      ['HighLatency', 'firing', 'critical', 'p99 above 1s on /pay', T + 2 * MIN],
      ['ErrorBudgetBurn', 'firing', 'warning', 'burning 14x', T + 4 * MIN],
    ]);
  });

  it('reads nothing for a service with no rows, without failing', async () => {
    const ctx = await loadContext(ch, incident({ tenant: TENANT, service: 'quiet', signals: [] }), T + 10 * MIN);
    expect(ctx).toMatchObject({ anomalies: [], errorLogs: [], deployments: [], alerts: [], dependencies: [] });
  });

  // Without the dependencies query the context had no third-party state at all (`dependencies` undefined).
  it("reads each third-party subject's state as of the incident's end: degraded still, or changed around it", async () => {
    const ctx = await loadContext(ch, incident({ tenant: TENANT }), T + 10 * MIN);
    // Oldest first. The API degraded 2 h before (still degraded: kept); Twilio recovered during the incident
    // (kept, recovered); the dashboard recovered an hour before (not kept); the incident opened after the end,
    // another service's and another tenant's rows are not read.
    expect(ctx.dependencies.map((d) => [d.provider, d.subject, d.status, d.degraded, d.at])).toEqual([
      ['Stripe', 'API', 'major_outage', true, T - 120 * MIN],
      ['Twilio', 'SMS', 'operational', false, T + 4 * MIN],
    ]);
    expect(ctx.dependencies[0]).toEqual({
      provider: 'Stripe',
      kind: 'component',
      subject: 'API',
      status: 'major_outage',
      previous: 'degraded_performance',
      degraded: true,
      impact: 'major',
      message: 'Elevated error rates',
      url: 'https://status.stripe.com',
      at: T - 120 * MIN,
    });
  });
});

async function seed(ch: ClickHouseClient): Promise<void> {
  const anomaly = (id: string, service: string, at: number, over: Record<string, unknown> = {}, tenant = TENANT) => ({
    anomaly_id: id,
    tenant,
    service,
    metric_name: 'latency_ms',
    labels: { route: '/pay' },
    kind: 'metric',
    current_value: 812,
    baseline_mean: 118,
    baseline_std_dev: 85,
    baseline_median: 120,
    z_score: 8.1,
    deviation_percent: 576,
    severity: 'critical',
    level_shift: false,
    detected_at: at,
    source_topic: 'autopilot.rollups',
    source_partition: 0,
    source_offset: 1,
    p_value: 1e-9,
    anomaly_score: 0.9,
    ...over,
  });
  await ch.insert({
    table: 'anomalies',
    format: 'JSONEachRow',
    values: [
      anomaly('an-1', 'checkout', T + 3 * MIN),
      anomaly('an-2', 'checkout', T + 5 * MIN, {
        metric_name: 'error_rate',
        kind: 'error_rate',
        labels: {},
        current_value: 0.2,
        baseline_median: 0.01,
        z_score: 6.3,
        severity: 'high',
      }),
      anomaly('an-3', 'checkout', T + 6 * MIN),
      anomaly('an-old', 'checkout', T - 120 * MIN),
      anomaly('an-web', 'web', T + 4 * MIN),
      anomaly('an-1', 'checkout', T + 3 * MIN, {}, 'someone-else'),
    ],
  });
  let offset = 0;
  const log = (level: string, at: number, message: string, service = 'checkout', labels: Record<string, string> = {}) => ({
    tenant: TENANT,
    service,
    level,
    timestamp: at,
    message,
    labels,
    kafka_partition: 0,
    kafka_offset: offset++,
  });
  await ch.insert({
    table: 'log_entries',
    format: 'JSONEachRow',
    values: [
      log('fatal', T + MIN, 'payment worker crashed'),
      log('error', T + 7 * MIN, '[db-pool] connection refused to 10.0.3.7:5432', 'checkout', { component: 'db-pool' }),
      log('error', T - 5 * MIN, 'too early'),
      log('warn', T + 6 * MIN, 'a warning is not an error'),
      log('error', T + 7 * MIN, 'another service', 'web'),
      log('error', T + 9 * MIN, 'after the last signal'),
    ],
  });
  const deployment = (version: string, status: string, at: number, service = 'checkout', metadata: Record<string, string> = {}) => ({
    tenant: TENANT,
    service,
    timestamp: at,
    version,
    status,
    metadata,
    kafka_partition: 0,
    kafka_offset: offset++,
  });
  await ch.insert({
    table: 'deployments',
    format: 'JSONEachRow',
    values: [
      deployment('v2.3.9', 'succeeded', T - 20 * MIN),
      deployment('v2.4.0', 'succeeded', T, 'checkout', { commit: '3f78685' }),
      deployment('v2.3.9', 'rollback', T + 7 * MIN),
      deployment('v2.3.8', 'succeeded', T - 45 * MIN),
      deployment('v9', 'succeeded', T, 'web'),
    ],
  });
  const alert = (fingerprint: string, name: string, status: string, startsAt: number, receivedAt: number, over: Record<string, unknown> = {}) => ({
    alert_id: `${fingerprint}:${status}:${startsAt}`,
    tenant: TENANT,
    service: 'checkout',
    source: 'alertmanager',
    alert_name: name,
    status,
    severity: 'critical',
    fingerprint,
    labels: { alertname: name },
    annotations: {},
    starts_at: startsAt,
    ends_at: null,
    received_at: receivedAt,
    generator_url: null,
    rule_id: null,
    value: null,
    ...over,
  });
  await ch.insert({
    table: 'alerts',
    format: 'JSONEachRow',
    values: [
      alert('f1', 'DiskFull', 'firing', T + MIN, T + 4 * MIN),
      alert('f1', 'DiskFull', 'resolved', T + MIN, T + 6 * MIN),
      alert('f2', 'HighLatency', 'firing', T + 2 * MIN, T + 2 * MIN, { annotations: { summary: 'p99 above 1s on /pay', description: 'long text' } }),
      alert('f3', 'LateArrival', 'firing', T + 15 * MIN, T + 20 * MIN),
      alert('f4', 'OtherService', 'firing', T + 2 * MIN, T + 2 * MIN, { service: 'web' }),
      alert('f5', 'ErrorBudgetBurn', 'resolved', T - 30 * MIN, T - 10 * MIN, { severity: 'warning' }),
      alert('f5', 'ErrorBudgetBurn', 'firing', T + 4 * MIN, T + 4 * MIN, { severity: 'warning', annotations: { description: 'burning 14x' } }),
    ],
  });
  const status = (subjectId: string, at: number, over: Record<string, unknown>) => ({
    ...statusChange({ change_id: `${subjectId}-${at}`, tenant: TENANT, job_id: 'job_status', subject_id: subjectId, at }),
    kafka_partition: 0,
    kafka_offset: offset++,
    ...over,
  });
  await ch.insert({
    table: 'external_status_changes',
    format: 'JSONEachRow',
    values: [
      status('api', T - 180 * MIN, {}),
      status('api', T - 120 * MIN, { from_status: 'degraded_performance', to_status: 'major_outage', impact: 'major', message: 'Elevated error rates' }),
      status('dash', T - 90 * MIN, { subject_name: 'Dashboard' }),
      status('dash', T - 60 * MIN, {
        subject_name: 'Dashboard',
        from_status: 'degraded_performance',
        to_status: 'operational',
        degraded: false,
        impact: 'none',
      }),
      status('sms', T + 2 * MIN, { provider: 'Twilio', subject_name: 'SMS', url: '' }),
      status('sms', T + 4 * MIN, {
        provider: 'Twilio',
        subject_name: 'SMS',
        from_status: 'degraded_performance',
        to_status: 'operational',
        degraded: false,
        url: '',
      }),
      status('inc', T + 20 * MIN, { subject_kind: 'incident', subject_name: 'After the end', to_status: 'investigating' }),
      status('web', T, { service: 'web', provider: 'Other' }),
      { ...status('api', T, {}), tenant: 'someone-else', provider: 'Intruder' },
    ],
  });
}

describe('renderContext', () => {
  const log = (at: number, message: string, labels: Record<string, string> = {}) => ({ at, level: 'error', message, labels });

  it('shows the incident, suspect, deployments, alerts, series and logs, with identical messages counted once', () => {
    const text = renderContext(
      context({
        anomalies: [
          { metric: 'latency_ms', kind: 'metric', labels: { route: '/pay' }, value: 700, baseline: 120, z: 6, severity: 'high', at: T + 3 * MIN },
          { metric: 'latency_ms', kind: 'metric', labels: { route: '/pay' }, value: 812, baseline: 120, z: 8.1, severity: 'critical', at: T + 4 * MIN },
        ],
        deployments: [{ at: T, version: 'v2.4.0', status: 'succeeded', metadata: { commit: '3f78685' } }],
        alerts: [{ name: 'HighLatency', severity: 'critical', status: 'firing', summary: 'p99 above 1s', at: T + 2 * MIN }],
        errorLogs: [
          log(T + MIN, 'connection refused to 10.0.3.7:5432'),
          log(T + 2 * MIN, 'connection refused to 10.0.3.8:5432'),
          log(T + 3 * MIN, 'connection refused to 10.0.3.9:5432'),
          log(T + 4 * MIN, 'payment declined'),
        ],
      }),
      { maxBytes: 8000 },
    );
    expect(text).toContain('Incident inc_0123456789abcdef0123 on service checkout: open, severity critical');
    expect(text).toContain('Suspect deployment (named by the correlator): v2.4.0 at 2026-11-23T12:00:00Z, 3 min before the first anomaly.');
    expect(text).toContain('- 2026-11-23T12:00:00Z v2.4.0 succeeded (commit=3f78685)');
    expect(text).toContain('- since 2026-11-23T12:02:00Z HighLatency [critical]: p99 above 1s');
    expect(text).toContain('- latency_ms{route="/pay"} 2× 2026-11-23T12:03:00Z..2026-11-23T12:04:00Z: latest 812 vs baseline 120, peak z 8.1 [critical]');
    // Three lines that differ only in a redacted address are one.
    expect(text).toContain('- 3× 2026-11-23T12:01:00Z..2026-11-23T12:03:00Z error: connection refused to [REDACTED:ip]:5432');
    expect(text).toContain('- 2026-11-23T12:04:00Z error: payment declined');
    expect(text.match(/connection refused/g)).toHaveLength(1);
  });

  // Before the dependencies were rendered, a provider showed up only in a timeline line, if at all.
  it('names the degraded third-party providers in the header, and lists each dependency with its status', () => {
    const dependency = { kind: 'component', previous: 'operational', message: '', url: '' };
    const text = renderContext(
      context({
        dependencies: [
          {
            ...dependency,
            provider: 'Stripe',
            subject: 'API',
            status: 'major_outage',
            degraded: true,
            impact: 'major',
            at: T - MIN,
            message: 'Elevated\nerrors',
          },
          {
            ...dependency,
            provider: 'Twilio',
            subject: 'SMS',
            status: 'operational',
            previous: 'partial_outage',
            degraded: false,
            impact: 'none',
            at: T + 4 * MIN,
          },
        ],
      }),
      { maxBytes: 8000 },
    );
    const lines = text.split('\n');
    expect(lines[2]).toBe(
      'Third-party dependencies of checkout degraded, by their status pages: Stripe (API) major_outage, impact major, since 2026-11-23T11:59:00Z.',
    );
    expect(text).toContain('- since 2026-11-23T11:59:00Z Stripe (API): major_outage [impact major], degraded: Elevated errors');
    expect(text).toContain('- since 2026-11-23T12:04:00Z Twilio (SMS): operational [impact none], recovered from partial_outage');
  });

  it('names the provider from the correlator’s signal when the status rows are not written yet', () => {
    const inc = incident({
      signals: [{ id: 'chg_1', kind: 'dependency', at: T, summary: 'Stripe: API major_outage (major)', severity: 'high' }],
      suspect_deployment: null,
    });
    const text = renderContext(context({ incident: inc }), { maxBytes: 8000 });
    expect(text).toContain("Third-party dependencies of checkout reported degraded (the correlator's signals): Stripe: API major_outage (major).");
  });

  it('redacts log messages, labels and alert summaries', () => {
    const text = renderContext(
      context({
        errorLogs: [log(T, 'login failed for alice@example.com with password=hunter2', { client_ip: '203.0.113.9' })],
        alerts: [{ name: 'AuthFailures', severity: 'warning', status: 'firing', summary: 'token=abcdef123456 rejected for bob@example.com', at: T }],
      }),
      { maxBytes: 8000 },
    );
    expect(text).not.toMatch(/alice|bob@|hunter2|203\.0\.113\.9|abcdef123456/);
    expect(text).toContain('login failed for [REDACTED:email] with password=[REDACTED:credential] (client_ip=[REDACTED:ip])');
    expect(text).toContain('AuthFailures [warning]: token=[REDACTED:credential] rejected for [REDACTED:email]');
  });

  it('drops the oldest log lines first to fit, and says how many went', () => {
    const logs = Array.from({ length: 200 }, (_, i) => log(T + i * 1000, `distinct failure number ${i} in the payment path`));
    const ctx = context({ errorLogs: logs, deployments: [{ at: T, version: 'v2.4.0', status: 'succeeded', metadata: {} }] });
    const full = renderContext(ctx, { maxBytes: 1_000_000 });
    const capped = renderContext(ctx, { maxBytes: 2000 });

    expect(Buffer.byteLength(full)).toBeGreaterThan(2000);
    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(2000);
    expect(capped).toContain('distinct failure number 199 ');
    expect(capped).not.toContain('distinct failure number 0 ');
    expect(capped).toContain('v2.4.0 succeeded');
    expect(capped).toContain('Suspect deployment');
    const kept = capped.match(/distinct failure number (\d+)/g)!.length;
    expect(capped).toContain(`(${200 - kept} older distinct messages left out)`);
    // What is kept is the newest run, without a gap.
    const numbers = [...capped.matchAll(/distinct failure number (\d+)/g)].map((m) => Number(m[1]));
    expect(numbers).toEqual(Array.from({ length: kept }, (_, i) => 200 - kept + i));
  });

  it('then trims the timeline and the least severe series, and cuts only as a last resort', () => {
    const anomalies = Array.from({ length: 40 }, (_, i) => ({
      metric: `metric_${i}`,
      kind: 'metric',
      labels: {},
      value: 10 + i,
      baseline: 1,
      z: 3 + i / 10,
      severity: i === 39 ? 'critical' : 'medium',
      at: T + i * 1000,
    }));
    const capped = renderContext(context({ anomalies, errorLogs: [log(T, 'x')] }), { maxBytes: 900 });
    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(900);
    expect(capped).not.toContain('error: x');
    expect(capped).toContain('metric_39');
    expect(capped).not.toContain('metric_0 ');
    expect(capped).toContain('less severe series left out');

    const tiny = renderContext(context({ errorLogs: [log(T, 'ünïcödé 🚨 '.repeat(50))] }), { maxBytes: 120 });
    expect(Buffer.byteLength(tiny)).toBeLessThanOrEqual(120);
    expect(tiny).toMatch(/\[context cut to fit\]$/);
    expect(tiny).not.toContain('\uFFFD');
  });
});
