import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { HealthCheck } from '../lib/health.ts';
import { processorTelemetry } from '../processors/runtime/telemetry.ts';
import { routeTestApp } from '../test/helpers/gateway-app.ts';
import { opsRoutes } from './ops-routes.ts';

/**
 * GET /health and /health/detailed, as every component serves them (through
 * opsRoutes: a processors-only process too) and as the gateway app does,
 * with no key. Before this change both were 404.
 */
const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;

const ok = (name: string, ms = 0): HealthCheck => ({ name, check: () => sleep(ms).then(() => undefined) });
const failing = (name: string, message: string): HealthCheck => ({
  name,
  check: async () => {
    throw new Error(message);
  },
});

const get = async (app: { request(path: string): Response | Promise<Response> }, path: string) => {
  const res = await app.request(path);
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text);
};

describe('GET /health', () => {
  it('ok with the version from package.json and the uptime', async () => {
    const body = await get(opsRoutes({ registry: new Registry(), checks: [ok('kafka'), ok('redis')] }), '/health');
    expect(body).toEqual({ status: 'ok', version: VERSION, uptime_s: expect.any(Number) });
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.uptime_s).toBeGreaterThanOrEqual(0);
  });

  it('degraded, still 200, when a dependency does not answer (readiness is /health/ready, 503)', async () => {
    const app = opsRoutes({ registry: new Registry(), checks: [ok('kafka'), failing('redis', 'connection refused')] });
    expect((await get(app, '/health')).status).toBe('degraded');
    expect((await app.request('/health/ready')).status).toBe(503);
  });

  it('is served by the gateway with no key', async () => {
    expect((await get(routeTestApp().app, '/health')).status).toBe('ok');
  });
});

describe('GET /health/detailed', () => {
  it('each dependency with its latency and error, memory and event-loop delay; no processors here', async () => {
    const app = opsRoutes({ registry: new Registry(), checks: [ok('kafka', 60), failing('redis', 'connection refused')] });
    await sleep(100); // the event-loop monitor samples every 20 ms
    const body = await get(app, '/health/detailed');
    expect(body).toMatchObject({ status: 'degraded', version: VERSION, processors: null });
    expect(body.checks).toEqual([
      { name: 'kafka', ok: true, latency_ms: expect.any(Number) },
      { name: 'redis', ok: false, error: 'connection refused', latency_ms: expect.any(Number) },
    ]);
    expect(body.checks[0].latency_ms).toBeGreaterThanOrEqual(55); // the check sleeps 60 ms (timer slack below)
    expect(body.memory.rss_bytes).toBeGreaterThan(0);
    expect(body.memory.heap_used_bytes).toBeLessThanOrEqual(body.memory.heap_total_bytes);
    expect(body.memory.heap_total_bytes).toBeLessThanOrEqual(body.memory.heap_limit_bytes);
    expect(body.event_loop_delay_ms).toEqual({
      window_s: expect.any(Number),
      mean: expect.any(Number),
      p50: expect.any(Number),
      p99: expect.any(Number),
      max: expect.any(Number),
    });
    expect(body.event_loop_delay_ms.p99).toBeLessThanOrEqual(body.event_loop_delay_ms.max);
  });

  it("the processors' lag per partition, from this process's registry, with stalled ones flagged", async () => {
    const registry = new Registry();
    const t = processorTelemetry(registry);
    t.lag.set({ processor: 'sink', topic: 'autopilot.logs', partition: '1' }, 7);
    t.lag.set({ processor: 'sink', topic: 'autopilot.logs', partition: '0' }, 5);
    t.lag.set({ processor: 'detect', topic: 'autopilot.metric-batches', partition: '0' }, 0);
    t.stalled.set({ processor: 'sink', topic: 'autopilot.logs', partition: '1' }, 1);
    t.stalled.set({ processor: 'sink', topic: 'autopilot.logs', partition: '0' }, 0);
    const body = await get(opsRoutes({ registry, checks: [] }), '/health/detailed');
    expect(body.status).toBe('ok');
    expect(body.processors).toEqual({
      total_lag: 12, // 7 + 5 + 0
      partitions: [
        { processor: 'detect', topic: 'autopilot.metric-batches', partition: 0, lag: 0, stalled: false },
        { processor: 'sink', topic: 'autopilot.logs', partition: 0, lag: 5, stalled: false },
        { processor: 'sink', topic: 'autopilot.logs', partition: 1, lag: 7, stalled: true },
      ],
    });
  });

  it('is served by the gateway with no key, naming no tenant', async () => {
    const t = routeTestApp();
    await t.a('POST', '/v1/metrics', { timestamp: Date.now(), metric_name: 'up', value: 1, labels: { service: 'api' } });
    const res = await t.anonymous('GET', '/health/detailed');
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain('tenant-a');
  });
});
