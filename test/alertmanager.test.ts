import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDaemon, type Daemon } from './helpers/daemon.ts';
import { eventually, listen, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * A real Alertmanager (Debian's 0.25) with a webhook receiver pointing at the
 * gateway, bearer key included. An alert posted to its API is delivered to
 * /v1/alertmanager, stored in the alerts table, and, firing on a service that
 * just deployed, attached to that service's incident as a signal.
 */
describe('webhooks from a real Alertmanager', () => {
  let p: TestPipeline;
  let alertmanager: Daemon;
  let gateway: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    p = await startTestPipeline('alertmanager', { processors: ['sink', 'correlate'] });
    gateway = await listen(p.app);
    alertmanager = await startDaemon({
      binary: inject('debianTools').alertmanager,
      readyPath: '/-/ready',
      config: () => `
route:
  receiver: autopilot
  group_by: ['alertname', 'service']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: autopilot
    webhook_configs:
      - url: ${gateway.url}/v1/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: ${p.keys.a}
`,
      // No cluster: a lone Alertmanager in a test must not look for peers.
      args: (dir, port) => [
        `--config.file=${dir}/config.yml`,
        `--storage.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
    });
  }, 180_000);

  afterAll(async () => {
    await alertmanager?.stop();
    await gateway?.close();
    await p?.stop();
  });

  it('stores firing and resolved alerts and attaches a firing one to the service incident', async () => {
    const tenant = p.tenants.a;
    const service = `payments-${randomUUID().slice(0, 6)}`;
    const now = Date.now();
    const deployed = await p.post('/v1/deployments', { timestamp: now - 60_000, service, version: 'v2.4.1', status: 'succeeded' });
    expect(deployed.status).toBe(202);

    const post = (endsAt?: string) =>
      fetch(`${alertmanager.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          {
            labels: { alertname: 'HighErrorRate', service, severity: 'critical' },
            annotations: { summary: '5xx above 5% for 5 minutes', runbook_url: 'https://runbooks.example/high-error-rate' },
            startsAt: new Date(now - 30_000).toISOString(),
            ...(endsAt ? { endsAt } : {}),
            generatorURL: 'http://prometheus.example/graph?g0.expr=rate',
          },
        ]),
      });
    expect((await post()).status).toBe(200);

    const alerts = () =>
      p.rows<{ status: string; source: string; severity: string; alert_name: string; annotations: Record<string, string>; fingerprint: string }>(
        `SELECT status, source, severity, alert_name, annotations, fingerprint FROM alerts FINAL WHERE tenant = {tenant:String} AND service = {service:String} ORDER BY received_at`,
        { tenant, service },
      );
    const firing = await eventually(alerts, (r) => r.some((a) => a.status === 'firing'), 30_000);
    expect(firing[0]).toMatchObject({ source: 'alertmanager', severity: 'critical', alert_name: 'HighErrorRate' });
    expect(firing[0]!.annotations.summary).toBe('5xx above 5% for 5 minutes');
    expect(firing[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);

    const incidents = await eventually(
      () =>
        p.rows<{ signals: string; suspect_version: string | null; severity: string }>(
          `SELECT signals, suspect_version, severity FROM incidents FINAL WHERE tenant = {tenant:String} AND service = {service:String}`,
          { tenant, service },
        ),
      (r) => r.length === 1,
      30_000,
    );
    const signals = JSON.parse(incidents[0]!.signals) as { kind: string; summary: string }[];
    expect(signals.map((s) => s.kind).sort()).toEqual(['alert', 'deployment']);
    expect(signals.find((s) => s.kind === 'alert')!.summary).toContain('HighErrorRate');
    expect(incidents[0]).toMatchObject({ suspect_version: 'v2.4.1', severity: 'critical' });

    // Resolving it in Alertmanager sends the resolved notification (send_resolved) and that is stored too.
    expect((await post(new Date().toISOString())).status).toBe(200);
    await eventually(alerts, (r) => r.some((a) => a.status === 'resolved'), 30_000);

    // Another tenant sees none of it.
    const [other] = await p.rows<{ n: string }>('SELECT count() AS n FROM alerts WHERE tenant = {t:String}', { t: p.tenants.b });
    expect(Number(other!.n)).toBe(0);
  }, 120_000);
});
