import { describe, expect, it } from 'vitest';
import { DEPLOYMENT_STATUSES, deploymentInput, logInput, metricInput, RETENTION_MS } from './records.ts';

describe('metric input', () => {
  const base = { timestamp: Date.now(), metric_name: 'http.latency_ms', value: 1, labels: { service: 'api' } };

  it('sorts label keys and turns number and boolean label values into strings', () => {
    const out = metricInput.parse({ ...base, labels: { zone: 'a', service: 'api', code: 200, canary: true } });
    expect(Object.keys(out.labels)).toEqual(['canary', 'code', 'service', 'zone']);
    expect(out.labels).toMatchObject({ code: '200', canary: 'true' });
  });

  it('reads ISO 8601 with any zone as the same instant, and epoch milliseconds as is', () => {
    const at = Date.now() - 60_000;
    const iso = new Date(at).toISOString();
    const shifted = iso.replace('Z', '+00:00');
    expect(metricInput.parse({ ...base, timestamp: iso }).timestamp).toBe(at);
    expect(metricInput.parse({ ...base, timestamp: shifted }).timestamp).toBe(at);
    expect(metricInput.parse({ ...base, timestamp: at }).timestamp).toBe(at);
  });

  it('refuses a zone-less ISO time, fractional epochs, the far future and what is past retention', () => {
    expect(metricInput.safeParse({ ...base, timestamp: '2026-11-23T10:00:00' }).success).toBe(false);
    expect(metricInput.safeParse({ ...base, timestamp: Date.now() + 0.5 }).success).toBe(false);
    expect(metricInput.safeParse({ ...base, timestamp: Date.now() + 2 * 86_400_000 }).success).toBe(false);
    expect(metricInput.safeParse({ ...base, timestamp: Date.now() - RETENTION_MS - 60_000 }).success).toBe(false);
  });

  it('takes UTF-8 metric names as Prometheus 3 does, and refuses empty ones, control characters and lone surrogates', () => {
    for (const name of ['ok:rate_5m', '9lives', 'resource cpu usage', 'http.server.duration', 'débit 🚀', 'x'.repeat(200)]) {
      expect(metricInput.safeParse({ ...base, metric_name: name }).success).toBe(true);
    }
    for (const name of ['', 'line\nbreak', 'nul\u0000', 'half \ud800', 'x'.repeat(201)]) {
      expect(metricInput.safeParse({ ...base, metric_name: name }).success).toBe(false);
    }
  });
});

describe('log and deployment input', () => {
  it('normalises level spellings and defaults labels', () => {
    const out = logInput.parse({ timestamp: Date.now(), level: 'WARNING', message: 'm', service: 's' });
    expect(out.level).toBe('warn');
    expect(out.labels).toEqual({});
    expect(logInput.parse({ timestamp: Date.now(), level: 'Critical', message: 'm', service: 's' }).level).toBe('fatal');
  });

  it('requires a known deployment status and keeps metadata as sorted strings', () => {
    const out = deploymentInput.parse({ timestamp: Date.now(), service: 's', version: '1.2.3', status: 'rolled_back', metadata: { pr: 7, commit: 'abc' } });
    expect(out.metadata).toEqual({ commit: 'abc', pr: '7' });
    expect(Object.keys(out.metadata)).toEqual(['commit', 'pr']);
    expect(deploymentInput.safeParse({ timestamp: Date.now(), service: 's', version: '1', status: 'deployed' }).success).toBe(false);
  });
});

describe('deployment status spellings', () => {
  const status = (s: unknown) => deploymentInput.safeParse({ timestamp: Date.now(), service: 's', version: '1', status: s });

  // Before the spelling table only the four canonical values passed: the product brief's own "success" was a 400.
  it.each([
    ['success', 'succeeded'],
    ['succeeded', 'succeeded'],
    ['successful', 'succeeded'],
    ['SUCCESS', 'succeeded'],
    ['Succeeded', 'succeeded'],
    ['failure', 'failed'],
    ['failed', 'failed'],
    ['error', 'failed'],
    ['FAILURE', 'failed'],
    ['Error', 'failed'],
    ['timed_out', 'failed'],
    ['TERMINAL', 'failed'],
    ['in_progress', 'started'],
    ['started', 'started'],
    ['running', 'started'],
    ['Running', 'started'],
    ['in-progress', 'started'],
    ['In Progress', 'started'],
    ['rolled_back', 'rolled_back'],
    ['rollback', 'rolled_back'],
    ['rolled back', 'rolled_back'],
    ['Rolled-Back', 'rolled_back'],
    ['cancelled', 'cancelled'],
    ['canceled', 'cancelled'],
    ['CANCELED', 'cancelled'],
    ['ABORTED', 'cancelled'],
    ['  success\n', 'succeeded'],
  ])('stores %j as %s', (sent, stored) => {
    const out = status(sent);
    expect(out.success).toBe(true);
    expect(out.data!.status).toBe(stored);
  });

  it('stores only canonical values, each of which is accepted as itself', () => {
    for (const canonical of DEPLOYMENT_STATUSES) expect(status(canonical).data?.status).toBe(canonical);
  });

  it('refuses health and queue states, unknown words and non-strings, naming the accepted spellings', () => {
    for (const sent of ['Healthy', 'Degraded', 'queued', 'pending', 'deployed', 'succes', '', '   ', 'success!', 1, null, true]) {
      expect(status(sent).success, JSON.stringify(sent)).toBe(false);
    }
    const refused = status('Degraded');
    expect(refused.error!.issues[0]!.path).toEqual(['status']);
    expect(refused.error!.issues[0]!.message).toContain('"success"');
  });
});
