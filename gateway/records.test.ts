import { describe, expect, it } from 'vitest';
import { deploymentInput, logInput, metricInput, RETENTION_MS } from './records.ts';

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
