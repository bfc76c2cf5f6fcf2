import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertDeployments, insertIncidents, insertLogs, insertRollups, MIN, openClickHouse } from '../../test/helpers/assistant-data.ts';
import type { ClickHouseClient } from '../client.ts';
import { selectRows } from '../rows.ts';
import { alignedSpan, ServiceStore, stepFor, trailingSpan, type ServiceOverview } from './services.ts';

/**
 * The services store on the embedded ClickHouse, against rows written here
 * relative to the last hour: which services are listed and in what order,
 * percentiles merged from the rollups' sketches (equal to the
 * service_latency view's at a 1-minute step), throughput, error rate, open
 * incidents and deployments; a replayed copy of a rollup window and of a log
 * line (must count once: FINAL); rows outside the span, of another tenant
 * and of other metrics (must never count). The store did not exist before
 * this change.
 */
const A = 'tenant-a';
const B = 'tenant-b';
const DURATION = 'http_request_duration_ms';
const SPAN = trailingSpan(Date.now(), 60); // 60 buckets of a minute, the last one holding now
const at = (minute: number) => SPAN.from + minute * MIN; // the start of bucket `minute`
/** Two minutes that share a 2-minute bucket (40 and 41, or 41 and 42, as the clock falls). */
const PAIR = at(40) % (2 * MIN) === 0 ? 40 : 41;

let ch: ClickHouseClient;
let store: ServiceStore;

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** Rollup windows of one series (its labels), as the rollup processor writes them: one insert. */
const rollups = (tenant: string, service: string, metric: string, windows: [minuteStart: number, values: number[]][], labels: Record<string, string> = {}) =>
  insertRollups(
    ch,
    tenant,
    service,
    metric,
    windows.map(([start, values]) => ({ start, values })),
    labels,
  );
const incident = (id: string, service: string, version: number, status: 'open' | 'resolved', severity: string, opened: number) => ({
  id,
  service,
  version,
  status,
  severity,
  opened_at: opened,
  resolved_at: status === 'resolved' ? opened : null,
  signals: [],
});

beforeAll(async () => {
  ch = await openClickHouse('services');
  store = new ServiceStore(ch);

  // checkout: two series of its duration metric at minute 10 (1..100 and 101..200), the first written twice (a replay,
  // below); minute 11 one series; minutes PAIR and PAIR + 1 constant 100 then 200 (for the 2-minute merge below).
  await rollups(
    A,
    'checkout',
    DURATION,
    [
      [at(10), range(1, 100)],
      [at(11), [5, 7, 900]],
      [at(PAIR), Array(10).fill(100)],
      [at(PAIR + 1), Array(10).fill(200)],
    ],
    { path: '/a' },
  );
  await rollups(A, 'checkout', DURATION, [[at(10), range(101, 200)]], { path: '/b' });
  // Other metrics of checkout: a latency with fewer samples, and a busier counter that is no latency.
  await rollups(A, 'checkout', 'db_latency_ms', [[at(10), [3, 4]]]);
  await rollups(A, 'checkout', 'http_requests_total', [[at(10), range(1, 500)]]);
  // auth: metrics, none of them a latency.
  await rollups(A, 'auth', 'logins_total', [[at(20), [1, 2, 3]]]);
  // An hour before the span: lists nothing.
  await rollups(A, 'old-metrics', DURATION, [[SPAN.from - 60 * MIN, [1, 2]]]);
  await rollups(B, 'checkout', DURATION, [[at(10), [1e6, 1e6]]]);
  await rollups(B, 'theirs', DURATION, [[at(10), [1]]]);
  // payments at minute 5: 4 lines, 1 error and 1 fatal (share 0.5; the error replayed below). Minute 6: 2 info.
  await insertLogs(ch, A, [
    { service: 'payments', at: at(5) + 1000, level: 'info', message: 'ok' },
    { service: 'payments', at: at(5) + 2000, level: 'warn', message: 'slow' },
    { service: 'payments', at: at(5) + 3000, level: 'error', message: 'boom' },
    { service: 'payments', at: at(5) + 4000, level: 'fatal', message: 'dead' },
    { service: 'payments', at: at(6), level: 'info', message: 'ok' },
    { service: 'payments', at: at(6) + 1, level: 'info', message: 'ok again' },
    { service: 'payments', at: SPAN.to, level: 'error', message: 'after the span' },
  ]);
  await insertLogs(ch, B, [{ service: 'payments', at: at(5), level: 'error', message: 'theirs' }]);
  await insertDeployments(ch, A, [
    { service: 'inventory', at: at(30), version: 'v7' },
    { service: 'checkout', at: at(8), version: 'v41', status: 'started' },
    { service: 'checkout', at: at(9), version: 'v41' },
    { service: 'legacy', at: SPAN.from - 3 * 24 * 60 * MIN, version: 'v1' }, // long ago: its last deployment, but no reason to list it
  ]);
  await insertDeployments(ch, B, [{ service: 'checkout', at: at(50), version: 'theirs' }]);
  await insertIncidents(ch, A, [
    incident('i1', 'billing', 1, 'open', 'critical', SPAN.from - 5 * 24 * 60 * MIN), // open for days: still listed
    incident('i2', 'search', 1, 'open', 'medium', at(20)),
    incident('i3', 'search', 1, 'open', 'high', at(21)),
    incident('i4', 'checkout', 1, 'open', 'critical', at(12)),
    incident('i4', 'checkout', 2, 'resolved', 'critical', at(12)), // resolved in its latest version
  ]);
  await insertIncidents(ch, B, [incident('i5', 'theirs', 1, 'open', 'critical', at(12))]);
  // Written again, as a replay after a crash writes them: in inserts of their own (ClickHouse collapses
  // duplicates within one insert, so only a later insert leaves two rows for FINAL to collapse).
  await rollups(A, 'checkout', DURATION, [[at(10), range(1, 100)]], { path: '/a' });
  await insertLogs(ch, A, [{ service: 'payments', at: at(5) + 3000, level: 'error', message: 'boom' }]);
  await insertDeployments(ch, A, [{ service: 'checkout', at: at(9), version: 'v41' }]);
});
afterAll(async () => ch?.close());

const byName = (services: ServiceOverview[], name: string) => {
  const s = services.find((x) => x.service === name);
  expect(s, name).toBeDefined();
  return s!;
};
const nonNull = (values: (number | null)[]) => Object.fromEntries(values.flatMap((v, i) => (v === null ? [] : [[i, v]])));

describe('steps and spans', () => {
  it('a minute up to 2 h, then the fewest whole minutes giving at most 120 buckets', () => {
    expect(stepFor(60 * MIN)).toBe(MIN);
    expect(stepFor(120 * MIN)).toBe(MIN);
    expect(stepFor(121 * MIN)).toBe(2 * MIN);
    expect(stepFor(24 * 60 * MIN)).toBe(12 * MIN);
    expect(stepFor(7 * 24 * 60 * MIN)).toBe(84 * MIN);
    const day = trailingSpan(Date.UTC(2025, 0, 1, 12, 3, 30), 24 * 60);
    expect(day).toEqual({ from: Date.UTC(2024, 11, 31, 12, 12), to: Date.UTC(2025, 0, 1, 12, 12), step: 12 * MIN });
    expect(trailingSpan(Date.UTC(2025, 0, 1, 12, 3, 30), 60)).toEqual({ from: Date.UTC(2025, 0, 1, 11, 4), to: Date.UTC(2025, 0, 1, 12, 4), step: MIN });
    expect(alignedSpan(Date.UTC(2025, 0, 1, 12, 0, 30), Date.UTC(2025, 0, 1, 12, 10, 30))).toEqual({
      from: Date.UTC(2025, 0, 1, 12, 0),
      to: Date.UTC(2025, 0, 1, 12, 11),
      step: MIN,
    });
  });
});

describe('ServiceStore.overview', () => {
  it('lists services with data in the span or an open incident: open incidents first, worst first, then by name', async () => {
    const services = await store.overview(A, SPAN);
    // Not legacy (a deployment long ago only), old-metrics (rollups before the span), B's services.
    expect(services.map((s) => [s.service, s.open_incidents, s.worst_open_severity])).toEqual([
      ['billing', 1, 'critical'],
      ['search', 2, 'high'],
      ['auth', 0, null],
      ['checkout', 0, null], // i4 is resolved in its latest version
      ['inventory', 0, null],
      ['payments', 0, null],
    ]);
  });

  it('every bucket present, nulls where there is nothing', async () => {
    const services = await store.overview(A, SPAN);
    for (const s of services) {
      expect(s.series.t).toEqual(Array.from({ length: 60 }, (_, i) => SPAN.from + i * MIN));
      for (const k of ['p50', 'p95', 'p99', 'throughput', 'error_rate'] as const) expect(s.series[k], `${s.service} ${k}`).toHaveLength(60);
    }
    const billing = byName(services, 'billing');
    expect(billing.latency_metric).toBeNull();
    expect([...billing.series.p50, ...billing.series.throughput, ...billing.series.error_rate].every((v) => v === null)).toBe(true);
  });

  it("percentiles of the busiest latency metric, merged over its series: the service_latency view's at a 1-minute step", async () => {
    const checkout = byName(await store.overview(A, SPAN), 'checkout');
    expect(checkout.latency_metric).toBe(DURATION); // not db_latency_ms (fewer samples), not http_requests_total (no latency)
    const view = await selectRows<{ window_start: string; p50: number; p95: number; p99: number; count: string }>(
      ch,
      `SELECT toUnixTimestamp64Milli(window_start) AS window_start, p50, p95, p99, count FROM service_latency
        WHERE tenant = {tenant:String} AND service = 'checkout' AND metric_name = {metric:String} ORDER BY window_start`,
      { tenant: A, metric: DURATION },
    );
    expect(view.map((r) => Number(r.window_start))).toEqual([at(10), at(11), at(PAIR), at(PAIR + 1)]);
    for (const r of view) {
      const i = (Number(r.window_start) - SPAN.from) / MIN;
      expect([checkout.series.p50[i], checkout.series.p95[i], checkout.series.p99[i]], `minute ${i}`).toEqual([r.p50, r.p95, r.p99]);
    }
    // And they are percentiles: minute 10 holds 1..200 once (the replayed window counts once), within the sketch's 0.5 %.
    expect(Math.abs(checkout.series.p50[10]! - 100) / 100).toBeLessThan(0.01);
    expect(Math.abs(checkout.series.p99[10]! - 198) / 198).toBeLessThan(0.01);
    expect(nonNull(checkout.series.p50)).toEqual({
      10: expect.any(Number),
      11: expect.any(Number),
      [PAIR]: expect.any(Number),
      [PAIR + 1]: expect.any(Number),
    });
  });

  it('throughput: samples of the latency metric per second, each window once', async () => {
    const checkout = byName(await store.overview(A, SPAN), 'checkout');
    expect(nonNull(checkout.series.throughput)).toEqual({ 10: 200 / 60, 11: 3 / 60, [PAIR]: 10 / 60, [PAIR + 1]: 10 / 60 });
  });

  it('error rate: the share of log lines at error or fatal, each line once', async () => {
    const payments = byName(await store.overview(A, SPAN), 'payments');
    expect(payments.latency_metric).toBeNull();
    expect(nonNull(payments.series.error_rate)).toEqual({ 5: 0.5, 6: 0 }); // the line at `to` is the next span's
    expect(nonNull(byName(await store.overview(A, SPAN), 'checkout').series.error_rate)).toEqual({});
  });

  it('a service without a latency metric has no percentiles or throughput', async () => {
    const auth = byName(await store.overview(A, SPAN), 'auth');
    expect(auth.latency_metric).toBeNull();
    expect(nonNull(auth.series.p99)).toEqual({});
    expect(nonNull(auth.series.throughput)).toEqual({});
  });

  it('the last deployment of any age, once', async () => {
    const services = await store.overview(A, SPAN);
    expect(byName(services, 'checkout').last_deployment).toEqual({ version: 'v41', status: 'succeeded', at: at(9) });
    expect(byName(services, 'inventory').last_deployment).toEqual({ version: 'v7', status: 'succeeded', at: at(30) });
    expect(byName(services, 'billing').last_deployment).toBeNull();
  });

  it('filters by a substring of the name, in any case', async () => {
    expect((await store.overview(A, SPAN, { q: 'PAY' })).map((s) => s.service)).toEqual(['payments']);
    expect((await store.overview(A, SPAN, { q: 'e' })).map((s) => s.service)).toEqual(['search', 'checkout', 'inventory', 'payments']);
    expect(await store.overview(A, SPAN, { q: 'nothing-like-it' })).toEqual([]);
  });

  it("another tenant's services never appear, nor count", async () => {
    const theirs = await store.overview(B, SPAN);
    expect(theirs.map((s) => s.service)).toEqual(['theirs', 'checkout', 'payments']);
    expect(nonNull(byName(theirs, 'checkout').series.throughput)).toEqual({ 10: 2 / 60 });
    expect(byName(theirs, 'checkout').last_deployment).toEqual({ version: 'theirs', status: 'succeeded', at: at(50) });
    expect((await store.overview(A, SPAN)).map((s) => s.service)).not.toContain('theirs');
  });

  it('a coarser step merges the windows in a bucket', async () => {
    // 3 h ending with the span: 2-minute buckets; minutes PAIR and PAIR + 1 (ten 100s, then ten 200s) share one.
    const span = alignedSpan(SPAN.to - 180 * MIN, SPAN.to);
    expect(span.step).toBe(2 * MIN);
    const checkout = byName(await store.overview(A, span), 'checkout');
    const i = (at(PAIR) - span.from) / span.step;
    expect(Number.isInteger(i)).toBe(true);
    expect(checkout.series.throughput[i]).toBe(20 / 120);
    // 20 values: p50 at rank 9.5 is a 100, p95 at rank 18.05 a 200 (each within the sketch's 0.5 %).
    expect(Math.abs(checkout.series.p50[i]! - 100)).toBeLessThan(0.5);
    expect(Math.abs(checkout.series.p95[i]! - 200)).toBeLessThan(1);
  });
});

describe('ServiceStore.series', () => {
  it('one service: its series and the deployments in the span', async () => {
    const checkout = await store.series(A, 'checkout', SPAN);
    const overview = byName(await store.overview(A, SPAN), 'checkout');
    expect(checkout.latency_metric).toBe(DURATION);
    expect(checkout.series).toEqual(overview.series);
    expect(checkout.deployments).toEqual([
      { version: 'v41', status: 'started', at: at(8) },
      { version: 'v41', status: 'succeeded', at: at(9) },
    ]);
  });

  it('of the metric asked for', async () => {
    const db = await store.series(A, 'checkout', SPAN, 'db_latency_ms');
    expect(db.latency_metric).toBe('db_latency_ms');
    expect(nonNull(db.series.throughput)).toEqual({ 10: 2 / 60 });
  });

  it('a service with no data: every bucket null, no deployments', async () => {
    for (const [tenant, service] of [
      [A, 'nothing-here'],
      [A, 'theirs'],
    ] as const) {
      const none = await store.series(tenant, service, SPAN);
      expect(none.latency_metric).toBeNull();
      expect(none.deployments).toEqual([]);
      expect(none.series.t).toHaveLength(60);
      expect([...none.series.p50, ...none.series.throughput, ...none.series.error_rate].every((v) => v === null)).toBe(true);
    }
  });
});
