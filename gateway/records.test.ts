import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { pointsOfSeries } from '../schemas/metric-batch.ts';
import type { MetricPoint } from '../schemas/topics.ts';
import { DEPLOYMENT_STATUSES, deploymentInput, logInput, metricInput, metricSeries, RETENTION_MS } from './records.ts';

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

describe('metricSeries, the JSON metrics path without zod', () => {
  const now = Date.now();
  const base = { timestamp: now - 1000, metric_name: 'http.latency_ms', value: 1.5, labels: { service: 'api', zone: 'a' } };
  // One change to the base item each: what zod accepts and what it refuses, at and past every limit.
  const variants: Record<string, unknown>[] = [
    base,
    { ...base, labels: { zone: 'a', service: 'api' } },
    { ...base, labels: { service: 'api', code: 200, canary: true, ratio: 0.5 } },
    { ...base, labels: { service: 'api', '10': 'x', '9': 'y', b: 'z' } },
    { ...base, labels: { service: 0 } },
    { ...base, labels: { service: false } },
    { ...base, labels: { service: '' } },
    { ...base, labels: { zone: 'a' } },
    { ...base, labels: {} },
    { ...base, labels: { service: 'api', '': 'empty name' } },
    { ...base, labels: { service: 'api', ['n'.repeat(128)]: 'v' } },
    { ...base, labels: { service: 'api', ['n'.repeat(129)]: 'v' } },
    { ...base, labels: { service: 'api', zone: 'v'.repeat(2048) } },
    { ...base, labels: { service: 'api', zone: 'v'.repeat(2049) } },
    { ...base, labels: { service: 'api', zone: null } },
    { ...base, labels: { service: 'api', zone: { nested: 1 } } },
    { ...base, labels: { service: 'api', zone: ['a'] } },
    { ...base, labels: null },
    { ...base, labels: ['api'] },
    { ...base, labels: 'service=api' },
    { ...base, timestamp: new Date(now - 5000).toISOString() },
    { ...base, timestamp: new Date(now - 5000).toISOString().replace('Z', '+02:00') },
    { ...base, timestamp: '2026-11-23T10:00:00' },
    { ...base, timestamp: 'yesterday' },
    { ...base, timestamp: now - 0.5 },
    { ...base, timestamp: now + 2 * 86_400_000 },
    { ...base, timestamp: now - RETENTION_MS - 60_000 },
    { ...base, timestamp: 1_700_000_000 },
    { ...base, timestamp: 2 ** 60 },
    { ...base, timestamp: null },
    { ...base, metric_name: '' },
    { ...base, metric_name: 'x'.repeat(200) },
    { ...base, metric_name: 'x'.repeat(201) },
    { ...base, metric_name: 'line\nbreak' },
    { ...base, metric_name: 'débit 🚀' },
    { ...base, metric_name: 'half \ud800' },
    { ...base, metric_name: 42 },
    { ...base, value: 'fast' },
    { ...base, value: null },
    { ...base, value: -0 },
    { ...base, value: 1e308 },
    { ...base, tenant: 'other' },
    { timestamp: base.timestamp, metric_name: base.metric_name, labels: base.labels },
    null,
    [base],
    'a string',
  ] as Record<string, unknown>[];
  const zodPoints = (items: unknown[]): MetricPoint[] | undefined => {
    const parsed = z.array(metricInput).safeParse(items);
    return parsed.success ? parsed.data.map((p) => ({ tenant: 'acme', ...p })) : undefined;
  };
  const byTime = (points: MetricPoint[]) => [...points].sort((a, b) => a.timestamp - b.timestamp);

  it('takes an item exactly when zod does, and gives what zod gives, label order included', () => {
    // Each variant alone, then next to a valid item (a batch is all or nothing).
    for (const variant of variants) {
      for (const items of [[variant], [{ ...base, timestamp: now - 2000 }, variant]]) {
        const expected = zodPoints(items);
        const series = metricSeries('acme', items, now);
        if (expected === undefined) {
          expect(series, JSON.stringify(variant)).toBeUndefined();
          continue;
        }
        // undefined is allowed (the route then asks zod); a different answer is not.
        if (series === undefined) continue;
        const points = byTime(pointsOfSeries(series));
        expect(points, JSON.stringify(variant)).toEqual(byTime(expected));
        expect(points.map((p) => Object.keys(p.labels))).toEqual(byTime(expected).map((p) => Object.keys(p.labels)));
      }
    }
  });

  it('answers for the common items itself, zod not needed: sorted or not, strings or not, epoch or ISO', () => {
    for (const i of [0, 1, 2, 3, 4, 20, 21]) expect(metricSeries('acme', [variants[i]], now), JSON.stringify(variants[i])).toBeDefined();
  });

  it('groups a batch by series: one entry per series, its samples in order', () => {
    const items = [0, 1, 2, 3].map((k) => ({ ...base, timestamp: now - 4000 + k, value: k, labels: { service: 'api', zone: k % 2 ? 'b' : 'a' } }));
    const series = metricSeries('acme', items, now)!;
    expect(series.map((s) => [s.labels.zone, s.timestamps, s.values, s.firstItem])).toEqual([
      ['a', [now - 4000, now - 3998], [0, 2], 0],
      ['b', [now - 3999, now - 3997], [1, 3], 1],
    ]);
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
