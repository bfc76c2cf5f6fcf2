import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describeError } from '../../lib/errors.ts';
import { sortKeys } from '../../lib/labels.ts';
import type { AlertRecord, MetricPoint } from '../../schemas/topics.ts';
import type { JobOf } from '../../tenant-config/jobs.ts';
import { checkOutgoingUrl } from '../../tenant-config/url-guard.ts';
import { durationMs } from '../../tenant-config/duration.ts';
import type { JobContext, JobRunner } from '../context.ts';

/**
 * GET or HEAD a URL, as Prometheus's blackbox exporter does, and write what
 * it saw as three series of the service the job names, so detection, alert
 * rules and correlation see a failing /health like any other metric:
 *
 *   probe_success       1 when the status is expected (any 2xx unless the job
 *                       lists codes) and the body matches, else 0
 *   probe_duration_ms   until the whole body was read, or the failure
 *   probe_http_status   the status code; 0 when there was no answer
 *
 * Labels: service, job (the job's name), instance (the URL), and the job's
 * own. Redirects are not followed (the URL guard judges one address per
 * request): list 3xx codes in expected_status to accept one. A probe that
 * fails is data, not a failed run; only a point that cannot be published is.
 *
 * After `alert_after` failures in a row the probe fires its alert,
 * ProbeFailed for the service (source 'probe'), as a blackbox exporter's
 * users pair it with `probe_success == 0`; the next success resolves it.
 * The count and the firing alert are the job's state between runs, saved
 * after the records are on Kafka: a run that fails to publish is counted again.
 */
export const runHttpProbe: JobRunner<'http_probe'> = async (job, ctx) => {
  const p = job.params;
  const timeout = AbortSignal.any([ctx.signal, AbortSignal.timeout(durationMs(p.timeout))]);
  const at = ctx.now();
  const started = performance.now();
  let status = 0;
  let body = '';
  let error: string | undefined;
  try {
    await checkOutgoingUrl(p.url, ctx.guard);
    const res = await ctx.http(p.url, {
      method: p.method,
      headers: { 'user-agent': 'Autopilot-Probe', accept: '*/*', ...p.headers },
      signal: timeout,
      redirect: 'manual',
    });
    status = res.status;
    body = await res.text();
  } catch (err) {
    if (ctx.signal.aborted) throw err; // the run itself was stopped: not the target's failure
    error = timeout.aborted ? `no answer within ${p.timeout}` : describeError(err);
  }
  const durationMsTaken = performance.now() - started;
  const statusOk = status !== 0 && (p.expected_status ? p.expected_status.includes(status) : status >= 200 && status < 300);
  const bodyOk = p.body_match === undefined || new RegExp(p.body_match).test(body);
  if (status !== 0 && statusOk && !bodyOk) error = `body does not match /${p.body_match}/`;
  else if (status !== 0 && !statusOk) error = `status ${status} is not ${p.expected_status ? p.expected_status.join(' or ') : '2xx'}`;
  const success = statusOk && bodyOk;

  const labels = sortKeys({ ...p.labels, service: p.service, job: job.name, instance: p.url });
  const point = (metric_name: string, value: number): MetricPoint => ({ tenant: ctx.tenant, timestamp: at, metric_name, value, labels });
  const points = [
    point('probe_success', success ? 1 : 0),
    point('probe_duration_ms', Math.round(durationMsTaken * 1000) / 1000),
    point('probe_http_status', status),
  ];
  const before = (await ctx.state.get<ProbeState>()) ?? { failures: 0, firing_since: null };
  const after: ProbeState = success ? { failures: 0, firing_since: null } : { failures: before.failures + 1, firing_since: before.firing_since };
  let alert: AlertRecord | undefined;
  if (!success && before.firing_since === null && p.alert_after > 0 && after.failures >= p.alert_after) {
    after.firing_since = at;
    alert = probeAlert(job, ctx, 'firing', at, at, error ?? 'probe failed');
  } else if (success && before.firing_since !== null) {
    alert = probeAlert(job, ctx, 'resolved', before.firing_since, at, `${p.method} ${p.url} answers again (status ${status})`);
  }
  await ctx.publisher.publishAll([{ kind: 'metrics', records: points }, ...(alert ? [{ kind: 'alerts' as const, records: [alert] }] : [])]);
  if (after.failures !== before.failures || after.firing_since !== before.firing_since) await ctx.state.set(after);
  return {
    items: points.length + (alert ? 1 : 0),
    details: {
      success,
      status,
      duration_ms: Math.round(durationMsTaken),
      failures_in_a_row: after.failures,
      ...(alert ? { alert: alert.status } : {}),
      ...(error ? { error } : {}),
    },
  };
};

interface ProbeState {
  failures: number;
  /** When the firing alert started; null when none fires. */
  firing_since: number | null;
}

function probeAlert(job: JobOf<'http_probe'>, ctx: JobContext, status: AlertRecord['status'], startsAt: number, now: number, summary: string): AlertRecord {
  const p = job.params;
  const fingerprint = createHash('sha256').update(`probe\u0000${ctx.tenant}\u0000${ctx.jobId}`).digest('hex').slice(0, 16);
  return {
    alert_id: `${fingerprint}:${status}:${startsAt}`,
    tenant: ctx.tenant,
    service: p.service,
    source: 'probe',
    alert_name: 'ProbeFailed',
    status,
    severity: p.severity,
    fingerprint,
    labels: sortKeys({ ...p.labels, alertname: 'ProbeFailed', service: p.service, job: job.name, instance: p.url, severity: p.severity }),
    annotations: { summary: status === 'firing' ? `${p.method} ${p.url} failed ${p.alert_after} times in a row: ${summary}` : summary },
    starts_at: startsAt,
    ends_at: status === 'resolved' ? now : null,
    received_at: now,
    generator_url: p.url,
    rule_id: ctx.jobId,
    value: status === 'firing' ? 0 : 1,
  };
}
