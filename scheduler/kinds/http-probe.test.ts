import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJob, type JobOf } from '../../tenant-config/jobs.ts';
import { testJobContext } from '../../test/helpers/job-context.ts';
import { runHttpProbe } from './http-probe.ts';

/** A service with a /health whose answer the test sets, and a /slow that answers after 2 s. */
let server: Server;
let base: string;
let health = { status: 200, body: '{"status":"ok"}' };
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
    res.writeHead(req.url === '/health' ? health.status : 404, { 'content-type': 'application/json' });
    res.end(req.method === 'HEAD' ? undefined : health.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const probe = (params: Record<string, unknown>) =>
  parseJob(
    { name: 'checkout health', schedule: '* * * * *', kind: 'http_probe', params: { service: 'checkout', ...params } },
    { allowLoopback: true },
  ) as JobOf<'http_probe'>;

const values = (ctx: ReturnType<typeof testJobContext>) => Object.fromEntries(ctx.publisher.records('metrics').map((p) => [p.metric_name, p.value]));

describe('http_probe', () => {
  it('writes success 1, the duration and the status for a healthy /health, labelled with the service, job and URL', async () => {
    health = { status: 200, body: '{"status":"ok"}' };
    const ctx = testJobContext({ tenant: 'acme' });
    const result = await runHttpProbe(probe({ url: `${base}/health` }), ctx);
    expect(result.items).toBe(3);
    const points = ctx.publisher.records('metrics');
    expect(points.map((p) => p.metric_name).sort()).toEqual(['probe_duration_ms', 'probe_http_status', 'probe_success']);
    expect(values(ctx)).toMatchObject({ probe_success: 1, probe_http_status: 200 });
    expect(values(ctx).probe_duration_ms).toBeGreaterThan(0);
    for (const p of points) {
      expect(p.tenant).toBe('acme');
      expect(p.labels).toEqual({ instance: `${base}/health`, job: 'checkout health', service: 'checkout' });
    }
  });

  it('a failing /health is data, not a failed run: success 0 with the status it answered', async () => {
    health = { status: 503, body: '{"status":"down"}' };
    const ctx = testJobContext();
    const result = await runHttpProbe(probe({ url: `${base}/health` }), ctx);
    expect(values(ctx)).toMatchObject({ probe_success: 0, probe_http_status: 503 });
    expect(result.details).toMatchObject({ success: false, status: 503, error: 'status 503 is not 2xx' });
  });

  it('checks the expected statuses and the body match', async () => {
    health = { status: 200, body: '{"status":"degraded"}' };
    const ctx = testJobContext();
    await runHttpProbe(probe({ url: `${base}/health`, body_match: '"status":"ok"' }), ctx);
    expect(values(ctx)).toMatchObject({ probe_success: 0, probe_http_status: 200 });
    const accepting = testJobContext();
    health = { status: 503, body: 'maintenance' };
    await runHttpProbe(probe({ url: `${base}/health`, expected_status: [503] }), accepting);
    expect(values(accepting)).toMatchObject({ probe_success: 1, probe_http_status: 503 });
  });

  it('fires ProbeFailed after alert_after failures in a row, once, and resolves it at the next success', async () => {
    const job = probe({ url: `${base}/health`, alert_after: 2 });
    const ctx = testJobContext({ tenant: 'acme', jobId: 'job-7' });
    const alerts = () => ctx.publisher.records('alerts');
    health = { status: 503, body: 'down' };
    await runHttpProbe(job, ctx);
    expect(alerts()).toEqual([]); // one failure is not yet an alert
    await runHttpProbe(job, ctx);
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0]).toMatchObject({
      tenant: 'acme',
      service: 'checkout',
      source: 'probe',
      alert_name: 'ProbeFailed',
      status: 'firing',
      severity: 'critical',
      rule_id: 'job-7',
      labels: { alertname: 'ProbeFailed', service: 'checkout', instance: `${base}/health` },
    });
    expect(alerts()[0]!.annotations.summary).toContain('status 503 is not 2xx');
    await runHttpProbe(job, ctx);
    expect(alerts(), 'a third failure fires nothing new').toHaveLength(1);
    health = { status: 200, body: 'ok' };
    const recovered = await runHttpProbe(job, ctx);
    expect(alerts()).toHaveLength(2);
    expect(alerts()[1]).toMatchObject({ status: 'resolved', starts_at: alerts()[0]!.starts_at, fingerprint: alerts()[0]!.fingerprint });
    expect(recovered.details).toMatchObject({ success: true, failures_in_a_row: 0, alert: 'resolved' });
    await runHttpProbe(job, ctx);
    expect(alerts()).toHaveLength(2);
  });

  it('HEAD sends a HEAD', async () => {
    health = { status: 200, body: '' };
    seen.length = 0;
    const ctx = testJobContext();
    await runHttpProbe(probe({ url: `${base}/health`, method: 'HEAD' }), ctx);
    expect(seen).toEqual(['HEAD /health']);
    expect(values(ctx).probe_success).toBe(1);
  });

  it('no answer within the timeout, or no server at all: success 0 and status 0', async () => {
    const slow = testJobContext();
    const result = await runHttpProbe(probe({ url: `${base}/slow`, timeout: '200ms' }), slow);
    expect(values(slow)).toMatchObject({ probe_success: 0, probe_http_status: 0 });
    expect(result.details.error).toBe('no answer within 200ms');
    const refused = testJobContext();
    await runHttpProbe(probe({ url: 'http://127.0.0.1:9/health' }), refused);
    expect(values(refused)).toMatchObject({ probe_success: 0, probe_http_status: 0 });
  });

  it('goes through the URL guard at run time too: a metadata address is refused and never asked', async () => {
    // Saving such a job is refused already (parseJob); a job stored before a guard change still meets the guard when it runs.
    const job = probe({ url: `${base}/health` });
    const ctx = testJobContext();
    const result = await runHttpProbe({ ...job, params: { ...job.params, url: 'http://169.254.169.254/latest/meta-data/' } }, ctx);
    expect(values(ctx)).toMatchObject({ probe_success: 0, probe_http_status: 0 });
    expect(String(result.details.error)).toContain('cloud metadata');
  });
});
