import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ClickHouseClient } from '../../sql/client.ts';
import {
  callTool,
  DAY,
  HOUR,
  insertAlerts,
  insertAnalyses,
  insertAnomalies,
  insertDeployments,
  insertIncidents,
  insertLogs,
  insertRollups,
  insertStatusChanges,
  MIN,
  openClickHouse,
  rankValue,
  toolContext,
} from '../../test/helpers/assistant-data.ts';
import type { Tool, ToolContext } from '../tool.ts';
import { alerts } from './alerts.ts';
import { anomalies } from './anomalies.ts';
import { deployments } from './deployments.ts';
import { externalStatus } from './external-status.ts';
import { getIncident, listIncidents } from './incidents.ts';
import { GITHUB_TOOL, TOOLS, toolsFor } from './index.ts';
import { logs } from './logs.ts';
import { listMetrics, metricSeries } from './metrics.ts';
import { knownServices, listServices } from './services.ts';
import { topServices } from './top-services.ts';

/**
 * The assistant's ClickHouse tools on the embedded engine. Tenants acme and
 * globex hold the same rows (tenant aside: a leak would double every count
 * and list), and globex has a service of its own, ledger, in every table (a
 * leak would name it); initech has nothing. Every tool is run for each.
 * Times are near the real clock: the tables' TTLs are measured from it.
 */
const NOW = Math.floor(Date.now() / MIN) * MIN;
const A = 'acme';
const B = 'globex';
const EMPTY = 'initech';
const LATENCY = 'http_request_duration_ms';
/** A window's values in the hour before the last, and in the last hour: p95 rose about fourfold. */
const BEFORE = Array.from({ length: 10 }, (_, i) => 95 + i);
const AFTER = Array.from({ length: 10 }, (_, i) => 380 + 4 * i);
const STRIPE_KEY = 'sk_live_51HxYzAbCdEfGhIjKlMnOp';

let ch: ClickHouseClient;
const ctx = (tenant: string, over: Partial<ToolContext> = {}) => toolContext(ch, tenant, NOW, over);
const windows = (fromMin: number, toMin: number, values: number[]) =>
  Array.from({ length: fromMin - toMin }, (_, i) => ({ start: NOW - (fromMin - i) * MIN, values }));

async function seed(tenant: string) {
  await insertRollups(ch, tenant, 'checkout', LATENCY, [...windows(120, 60, BEFORE), ...windows(60, 0, AFTER)]);
  await insertRollups(ch, tenant, 'checkout', 'requests_total', windows(30, 0, [1, 2, 3]));
  await insertRollups(ch, tenant, 'payments', LATENCY, windows(120, 0, [50, 51, 52]));
  await insertLogs(ch, tenant, [
    ...Array.from({ length: 5 }, (_, i) => ({
      service: 'checkout',
      level: 'error',
      at: NOW - (50 - i) * MIN,
      message: `payment failed: upstream timeout calling Stripe token=${STRIPE_KEY}`,
      labels: { pod: 'checkout-1', host: '10.1.2.3' },
    })),
    { service: 'checkout', level: 'fatal', at: NOW - 20 * MIN, message: 'Out of memory' },
    ...Array.from({ length: 10 }, (_, i) => ({ service: 'checkout', level: 'info', at: NOW - (40 - i) * MIN, message: 'GET /pay 200' })),
    { service: 'checkout', level: 'error', at: NOW - 90 * MIN, message: 'payment failed: card declined' },
    ...Array.from({ length: 2 }, (_, i) => ({ service: 'payments', level: 'error', at: NOW - (30 - i) * MIN, message: 'db connection refused' })),
  ]);
  await insertDeployments(ch, tenant, [
    { service: 'checkout', version: 'v2.4.0', at: NOW - 65 * MIN, metadata: { commit: 'abc1234', note: 'rotated db password=hunter2' } },
    { service: 'checkout', version: 'v2.4.0', at: NOW - 66 * MIN, status: 'started' },
    { service: 'payments', version: 'v1.9.0', at: NOW - 5 * HOUR },
  ]);
  await insertAnomalies(ch, tenant, [
    { id: 'a-1', service: 'checkout', metric: LATENCY, at: NOW - 58 * MIN, severity: 'critical', value: 400, baseline: 100, z: 12 },
    { id: 'a-2', service: 'checkout', metric: LATENCY, at: NOW - 50 * MIN, severity: 'high', value: 390, baseline: 100, z: 8 },
    { id: 'a-3', service: 'payments', metric: LATENCY, at: NOW - 30 * MIN, severity: 'medium', value: 70, baseline: 50, z: 5 },
    { id: 'a-old', service: 'checkout', metric: LATENCY, at: NOW - 3 * HOUR, severity: 'critical', value: 900, baseline: 100, z: 20 },
  ]);
  const signals = [
    { id: 'dep-1', kind: 'deployment', at: NOW - 65 * MIN, summary: 'checkout v2.4.0 succeeded', severity: null },
    { id: 'a-1', kind: 'anomaly', at: NOW - 58 * MIN, summary: `${LATENCY} 400 vs 100`, severity: 'critical' },
    { id: 'a-2', kind: 'anomaly', at: NOW - 50 * MIN, summary: `${LATENCY} 390 vs 100 (Authorization: Bearer abcdefghijklmnop1234)`, severity: 'high' },
  ];
  const suspect = { id: 'dep-1', version: 'v2.4.0', minutes_before: 7 };
  await insertIncidents(ch, tenant, [
    // Two versions of one incident: the later is its current state.
    { id: 'inc-1', service: 'checkout', version: 1, status: 'open', severity: 'high', opened_at: NOW - 58 * MIN, signals: signals.slice(0, 2), suspect },
    { id: 'inc-1', service: 'checkout', version: 2, status: 'open', severity: 'critical', opened_at: NOW - 58 * MIN, signals, suspect },
    {
      id: 'inc-0',
      service: 'payments',
      status: 'resolved',
      severity: 'high',
      opened_at: NOW - 3 * HOUR,
      resolved_at: NOW - 2 * HOUR,
      signals: [{ id: 'x', kind: 'alert', at: NOW - 3 * HOUR, summary: 'ErrorBudget', severity: 'high' }],
    },
    {
      id: 'inc-old',
      service: 'checkout',
      status: 'resolved',
      severity: 'medium',
      opened_at: NOW - 3 * DAY,
      resolved_at: NOW - 3 * DAY + HOUR,
      signals: [{ id: 'y', kind: 'anomaly', at: NOW - 3 * DAY, summary: 'old', severity: 'medium' }],
    },
  ]);
  await insertAnalyses(ch, tenant, [
    { id: 'an-1', incident: 'inc-1', service: 'checkout', at: NOW - 55 * MIN, source: 'rules', root_cause: 'Deployment v2.4.0 of checkout', confidence: 0.6 },
    {
      id: 'an-2',
      incident: 'inc-1',
      service: 'checkout',
      at: NOW - 45 * MIN,
      source: 'llm',
      root_cause: 'Deployment v2.4.0 raised checkout latency; it reads postgres://app:s3cretpass@db.internal/pay',
      confidence: 0.85,
      actions: [{ action: 'Roll back checkout to v2.3.9', reasoning: 'latency rose right after v2.4.0', risk: 'low', priority: 1 }],
    },
  ]);
  await insertAlerts(ch, tenant, [
    {
      fingerprint: 'fp-1',
      name: 'HighLatency',
      service: 'checkout',
      status: 'firing',
      starts_at: NOW - 55 * MIN,
      received_at: NOW - 55 * MIN,
      summary: 'p95 over 300ms; probe used Authorization: Bearer abcdefghijklmnopqrstu',
    },
    { fingerprint: 'fp-2', name: 'ErrorBudget', service: 'payments', status: 'firing', starts_at: NOW - 3 * HOUR, received_at: NOW - 3 * HOUR },
    {
      fingerprint: 'fp-2',
      name: 'ErrorBudget',
      service: 'payments',
      status: 'resolved',
      starts_at: NOW - 3 * HOUR,
      received_at: NOW - 2 * HOUR,
      ends_at: NOW - 2 * HOUR,
    },
    { fingerprint: 'fp-old', name: 'DiskFull', service: 'checkout', status: 'firing', starts_at: NOW - 3 * DAY, received_at: NOW - 3 * DAY },
    { fingerprint: 'fp-old', name: 'DiskFull', service: 'checkout', status: 'resolved', starts_at: NOW - 3 * DAY, received_at: NOW - 3 * DAY + 10 * MIN },
  ]);
  await insertStatusChanges(ch, tenant, [
    {
      provider: 'Stripe',
      subject: 'API',
      service: 'checkout',
      at: NOW - 40 * MIN,
      from: 'operational',
      to: 'partial_outage',
      degraded: true,
      impact: 'major',
      message: 'Elevated errors',
    },
    {
      provider: 'Stripe',
      subject: 'API',
      service: 'payments',
      at: NOW - 40 * MIN,
      from: 'operational',
      to: 'partial_outage',
      degraded: true,
      impact: 'major',
      message: 'Elevated errors',
    },
    {
      provider: 'AWS',
      subject: 'S3',
      service: 'checkout',
      at: NOW - 5 * HOUR,
      from: 'operational',
      to: 'degraded_performance',
      degraded: true,
      impact: 'minor',
    },
    {
      provider: 'AWS',
      subject: 'S3',
      service: 'checkout',
      at: NOW - 3 * HOUR,
      from: 'degraded_performance',
      to: 'operational',
      degraded: false,
      impact: 'none',
    },
  ]);
}

/** Globex's own service, in every table: a tool that leaks names it. */
async function seedLedger(tenant: string) {
  await insertRollups(ch, tenant, 'ledger', LATENCY, [...windows(120, 60, [10]), ...windows(60, 0, [5000])]);
  await insertLogs(
    ch,
    tenant,
    Array.from({ length: 40 }, (_, i) => ({ service: 'ledger', level: 'error', at: NOW - (45 - i) * MIN, message: 'ledger broken' })),
  );
  await insertDeployments(ch, tenant, [{ service: 'ledger', version: 'v9.9.9', at: NOW - 10 * MIN }]);
  await insertAnomalies(ch, tenant, [
    { id: 'a-ledger', service: 'ledger', metric: LATENCY, at: NOW - 5 * MIN, severity: 'critical', value: 5000, baseline: 10, z: 99 },
  ]);
  await insertIncidents(ch, tenant, [
    {
      id: 'inc-ledger',
      service: 'ledger',
      status: 'open',
      severity: 'critical',
      opened_at: NOW - 5 * MIN,
      signals: [{ id: 'a-ledger', kind: 'anomaly', at: NOW - 5 * MIN, summary: 'ledger', severity: 'critical' }],
    },
  ]);
  // An analysis of an incident id acme has too (unanalysed there): a join that forgot the tenant would give acme this root cause.
  await insertAnalyses(ch, tenant, [
    { id: 'an-ledger', incident: 'inc-0', service: 'payments', at: NOW - 10 * MIN, source: 'llm', root_cause: 'the ledger migration', confidence: 0.9 },
  ]);
  await insertAlerts(ch, tenant, [
    { fingerprint: 'fp-ledger', name: 'LedgerDown', service: 'ledger', status: 'firing', starts_at: NOW - 5 * MIN, received_at: NOW - 5 * MIN },
  ]);
  await insertStatusChanges(ch, tenant, [
    { provider: 'Ledgerly', subject: 'Core', service: 'ledger', at: NOW - 5 * MIN, to: 'major_outage', degraded: true, impact: 'critical' },
  ]);
}

beforeAll(async () => {
  ch = await openClickHouse('assistant-tools');
  await seed(A);
  await seed(B);
  await seedLedger(B);
});
afterAll(async () => ch?.close());

const within = (got: number, want: number, tolerance = 0.01) =>
  expect(Math.abs(got - want) / want, `${got} within ${tolerance * 100}% of ${want}`).toBeLessThan(tolerance);
const json = (v: unknown) => JSON.stringify(v);

describe('tenant isolation, tool by tool', () => {
  // What each tool is asked, wide enough to see every row a tenant has.
  const asks: [Tool, Record<string, unknown>][] = [
    [listServices, {}],
    [listMetrics, { service: 'ledger', since: '7d' }],
    [metricSeries, { service: 'ledger', metric: LATENCY, since: '3h' }],
    [topServices, { by: 'error_rate', since: '3h' }],
    [topServices, { by: 'latency_change', since: '1h' }],
    [listIncidents, { since: '7d' }],
    [anomalies, { since: '7d' }],
    [logs, { since: '7d' }],
    [deployments, { since: '7d' }],
    [alerts, { since: '7d' }],
    [externalStatus, { since: '7d', include_recovered: true }],
  ];

  it('the list covers every ClickHouse tool', () => {
    expect(new Set(asks.map(([t]) => t.name))).toEqual(new Set(TOOLS.map((t) => t.name).filter((n) => n !== 'incident')));
  });

  for (const [tool, args] of asks) {
    it(`${tool.name} ${json(args)}: globex's ledger for globex only; nothing for a tenant with no rows`, async () => {
      // How it would fail: drop `AND tenant = ...` from the tool's query (or from one side of a join) and acme sees ledger.
      const own = await callTool(tool, args, ctx(B));
      expect(json(own.data)).toContain('ledger');
      const other = await callTool(tool, args, ctx(A));
      // The asked-for service is echoed back (service, ref, note); nothing else of it may be there.
      const { service: _, ref: __, note: ___, ...found } = other.data as Record<string, unknown>;
      expect(json(found)).not.toContain('ledger');
      expect(json(other.evidence)).not.toContain('ledger');
      const none = await callTool(tool, args, ctx(EMPTY));
      expect(none.rows).toBe(0);
      expect(none.evidence).toEqual([]);
    });
  }

  it("incident: another tenant's incident is not found, and one's own is its own", async () => {
    await expect(callTool(getIncident, { id: 'inc-ledger' }, ctx(A))).rejects.toThrow("no incident with id 'inc-ledger'");
    expect(((await callTool(getIncident, { id: 'inc-ledger' }, ctx(B))).data as { service: string }).service).toBe('ledger');
    await expect(callTool(getIncident, { id: 'inc-1' }, ctx(EMPTY))).rejects.toThrow(/no incident/);
  });

  it("every tool's arguments convert to JSON Schema for the model, closed to other keys, with descriptions", () => {
    for (const tool of [...TOOLS, GITHUB_TOOL]) {
      const schema = z.toJSONSchema(tool.args, { io: 'input' }) as {
        type: string;
        additionalProperties: boolean;
        properties: Record<string, { description?: string }>;
      };
      expect(schema, tool.name).toMatchObject({ type: 'object', additionalProperties: false });
      expect(Object.keys(schema.properties), tool.name).not.toContain('tenant');
      expect(schema.properties.since?.description ?? 'no range', tool.name).not.toBe('');
    }
  });

  it('the tenant is never an argument: a tool refuses one', () => {
    for (const tool of [...TOOLS, GITHUB_TOOL]) expect(tool.args.safeParse({ tenant: B }).success, tool.name).toBe(false);
  });
});

describe('list_services and list_metrics', () => {
  it('names the services of the tenant, with what each sent', async () => {
    expect(await knownServices(ctx(A))).toEqual(['checkout', 'payments']);
    const r = await callTool(listServices, {}, ctx(A));
    expect(r.data).toEqual({
      services: [
        { service: 'checkout', sources: ['anomalies', 'deployments', 'incidents', 'logs', 'metrics'] },
        { service: 'payments', sources: ['anomalies', 'deployments', 'incidents', 'logs', 'metrics'] },
      ],
    });
    const cut = await callTool(listServices, {}, ctx(A, { maxRows: 1 }));
    expect(cut).toMatchObject({ rows: 1, truncated: true });
  });

  it("lists a service's metrics with sample counts and series refs", async () => {
    const r = await callTool(listMetrics, { service: 'checkout' }, ctx(A));
    expect((r.data as { metrics: unknown[] }).metrics).toEqual([
      { metric: LATENCY, ref: `series:checkout:${LATENCY}`, samples: 1200, series: 1, last_at: new Date(NOW - MIN).toISOString().replace('.000Z', 'Z') },
      {
        metric: 'requests_total',
        ref: 'series:checkout:requests_total',
        samples: 90,
        series: 1,
        last_at: new Date(NOW - MIN).toISOString().replace('.000Z', 'Z'),
      },
    ]);
    expect(r.evidence.map((e) => e.ref)).toEqual([`series:checkout:${LATENCY}`, 'series:checkout:requests_total']);
  });
});

describe('metric_series', () => {
  type Series = {
    ref: string;
    step: string;
    source: string;
    since: string;
    overall: { count: number; p50: number; p95: number; p99: number; avg: number; max: number } | null;
    points: { at: string; count: number; p95: number }[];
    note?: string;
  };
  const series = async (args: Record<string, unknown>, over: Partial<ToolContext> = {}) => {
    const r = await callTool(metricSeries, { service: 'checkout', metric: LATENCY, ...args }, ctx(A, over));
    return { ...r, s: r.data as Series };
  };

  it('the last hour by default: per-minute points and overall percentiles merged from the sketches', async () => {
    const { s, rows, truncated, evidence } = await series({}, { maxRows: 100 });
    expect(s.step).toBe('1m');
    expect(s.source).toBe('1-min rollups');
    expect(rows).toBe(60);
    expect(truncated).toBe(false);
    // Exactly acme's samples: globex's identical windows would double the count.
    expect(s.overall!.count).toBe(600);
    const all = Array.from({ length: 60 }, () => AFTER).flat();
    within(s.overall!.p50, rankValue(all, 0.5));
    within(s.overall!.p95, rankValue(all, 0.95));
    within(s.overall!.p99, rankValue(all, 0.99));
    within(s.overall!.avg, 398);
    expect(s.overall!.max).toBe(416);
    expect(s.points[0]).toMatchObject({ at: new Date(NOW - HOUR).toISOString().replace('.000Z', 'Z'), count: 10 });
    expect(evidence).toEqual([{ ref: `series:checkout:${LATENCY}`, label: expect.stringContaining('over 600 samples') }]);
  });

  it('picks the finest step that fits the row limit, and merges windows within a step', async () => {
    const { s, rows } = await series({ since: '2h' }, { maxRows: 50 });
    expect(s.step).toBe('5m');
    // Intervals start at multiples of 5 min (as a dashboard's do): the range's ends may fall inside one.
    expect(rows).toBeGreaterThanOrEqual(24);
    expect(rows).toBeLessThanOrEqual(25);
    expect(s.points.reduce((n, p) => n + p.count, 0)).toBe(1200);
    expect(s.points.slice(1, -1).every((p) => p.count === 50)).toBe(true);
    // Whole intervals before and after the change: each merges its five windows' values.
    within(s.points[1]!.p95, rankValue(Array.from({ length: 5 }, () => BEFORE).flat(), 0.95));
    within(s.points.at(-2)!.p95, rankValue(Array.from({ length: 5 }, () => AFTER).flat(), 0.95));
  });

  it('long ranges read the hourly rollups, with the same percentiles', async () => {
    const { s } = await series({ since: '3d' }, { maxRows: 50 });
    expect(s.step).toBe('6h');
    expect(s.source).toBe('hourly rollups');
    expect(s.overall!.count).toBe(1200);
    const all = [...Array.from({ length: 60 }, () => BEFORE).flat(), ...Array.from({ length: 60 }, () => AFTER).flat()];
    within(s.overall!.p50, rankValue(all, 0.5));
    within(s.overall!.p95, rankValue(all, 0.95));
    const hourly = await series({ since: '3h', step: '1h' });
    expect(hourly.s.source).toBe('hourly rollups');
    expect(hourly.s.points.reduce((n, p) => n + p.count, 0)).toBe(1200);
  });

  it('keeps the latest intervals when there are more than the row limit', async () => {
    const { s, rows, truncated } = await series({ step: '1m', since: '2h' }, { maxRows: 10 });
    expect(rows).toBe(10);
    expect(truncated).toBe(true);
    expect(s.points.at(-1)!.at).toBe(new Date(NOW - MIN).toISOString().replace('.000Z', 'Z'));
    expect(s.note).toMatch(/latest 10/);
  });

  it('absolute ranges, and a metric with no data says so without evidence', async () => {
    const since = new Date(NOW - 90 * MIN).toISOString();
    const until = new Date(NOW - 70 * MIN).toISOString().slice(0, 16); // no offset: UTC
    const { s, rows } = await series({ since, until });
    expect(rows).toBe(20);
    expect(s.overall!.count).toBe(200);
    const none = await series({ metric: 'no_such_metric' });
    expect(none.s.overall).toBeNull();
    expect(none.s.note).toMatch(/list_metrics/);
    expect(none.evidence).toEqual([]);
  });
});

describe('top_services', () => {
  it('by error rate: error and fatal lines per minute, their share, the range before, the top message redacted', async () => {
    const r = await callTool(topServices, { by: 'error_rate' }, ctx(A));
    const services = (r.data as { services: Record<string, unknown>[] }).services;
    expect(services).toEqual([
      {
        service: 'checkout',
        ref: 'logs:checkout:error',
        errors: 6,
        errors_per_minute: 0.1,
        error_share: 0.375,
        errors_previous_range: 1,
        top_message: expect.stringContaining('payment failed: upstream timeout'),
      },
      {
        service: 'payments',
        ref: 'logs:payments:error',
        errors: 2,
        errors_per_minute: 0.03333,
        error_share: 1,
        errors_previous_range: 0,
        top_message: 'db connection refused',
      },
    ]);
    expect(json(r.data)).not.toContain(STRIPE_KEY);
    expect(services[0]!.top_message).toContain('[REDACTED');
    expect(r.evidence.map((e) => e.ref)).toEqual(['logs:checkout:error', 'logs:payments:error']);
    expect(await callTool(topServices, { by: 'error_rate', limit: 1 }, ctx(A))).toMatchObject({ rows: 1, truncated: true });
  });

  it('by latency change: p95 against the equal range before, largest rise first', async () => {
    const r = await callTool(topServices, { by: 'latency_change' }, ctx(A));
    const services = (
      r.data as {
        services: { service: string; metric: string; ref: string; p95: number; p95_previous_range: number; change_percent: number; samples: number }[];
      }
    ).services;
    expect(services.map((s) => [s.service, s.ref])).toEqual([
      ['checkout', `series:checkout:${LATENCY}`],
      ['payments', `series:payments:${LATENCY}`],
    ]);
    within(services[0]!.p95, rankValue(Array.from({ length: 60 }, () => AFTER).flat(), 0.95));
    within(services[0]!.p95_previous_range, rankValue(Array.from({ length: 60 }, () => BEFORE).flat(), 0.95));
    expect(services[0]!.change_percent).toBeGreaterThan(250);
    expect(services[0]!.samples).toBe(600);
    expect(Math.abs(services[1]!.change_percent)).toBeLessThan(1);
    const one = await callTool(topServices, { by: 'latency_change', service: 'payments', metric: LATENCY }, ctx(A));
    expect(one.rows).toBe(1);
  });
});

describe('incidents and incident', () => {
  type Listed = {
    id: string;
    ref: string;
    status: string;
    severity: string;
    signals: number;
    suspect_deployment: unknown;
    root_cause: string | null;
    analysis_source: string | null;
  };
  const list = async (args: Record<string, unknown>, over: Partial<ToolContext> = {}) => {
    const r = await callTool(listIncidents, args, ctx(A, over));
    return { ...r, incidents: (r.data as { incidents: Listed[] }).incidents };
  };

  it('the last 24h by default: open ones and those resolved in it, newest first, each in its current version with its latest analysis', async () => {
    const { incidents, evidence } = await list({});
    expect(incidents.map((i) => i.id)).toEqual(['inc-1', 'inc-0']);
    expect(incidents[0]).toMatchObject({
      ref: 'incident:inc-1',
      status: 'open',
      severity: 'critical',
      signals: 3,
      suspect_deployment: { version: 'v2.4.0', minutes_before_first_anomaly: 7, ref: 'deployment:checkout:v2.4.0' },
      analysis_source: 'llm',
    });
    expect(incidents[0]!.root_cause).toContain('Deployment v2.4.0 raised checkout latency');
    expect(incidents[0]!.root_cause).not.toContain('s3cretpass');
    expect(incidents[1]).toMatchObject({ id: 'inc-0', status: 'resolved', suspect_deployment: null, root_cause: null, analysis_source: null });
    expect(evidence.map((e) => e.ref)).toEqual(['incident:inc-1', 'deployment:checkout:v2.4.0', 'incident:inc-0']);
  });

  it('filters by status, severity, service and range; cuts at the row limit', async () => {
    expect((await list({ status: 'open' })).incidents.map((i) => i.id)).toEqual(['inc-1']);
    expect((await list({ severity: 'critical' })).incidents.map((i) => i.id)).toEqual(['inc-1']);
    expect((await list({ service: 'payments' })).incidents.map((i) => i.id)).toEqual(['inc-0']);
    expect((await list({ since: '7d' })).incidents.map((i) => i.id)).toEqual(['inc-1', 'inc-0', 'inc-old']);
    expect((await list({ since: '90m' })).incidents.map((i) => i.id)).toEqual(['inc-1']);
    const cut = await list({ since: '7d' }, { maxRows: 2 });
    expect([cut.rows, cut.truncated]).toEqual([2, true]);
  });

  it('one incident: timeline in time order, redacted, the suspect with its time, the analysis with its actions', async () => {
    const r = await callTool(getIncident, { id: 'inc-1' }, ctx(A));
    const inc = r.data as {
      timeline: { kind: string; summary: string }[];
      suspect_deployment: { at: string };
      analysis: { source: string; recommended_actions: { action: string }[]; reasoning: string };
    };
    expect(inc.timeline.map((s) => s.kind)).toEqual(['deployment', 'anomaly', 'anomaly']);
    expect(json(inc)).not.toContain('abcdefghijklmnop1234');
    expect(json(inc)).not.toContain('s3cretpass');
    expect(inc.suspect_deployment.at).toBe(new Date(NOW - 65 * MIN).toISOString().replace('.000Z', 'Z'));
    expect(inc.analysis.source).toBe('llm');
    expect(inc.analysis.recommended_actions).toEqual([
      { action: 'Roll back checkout to v2.3.9', reasoning: 'latency rose right after v2.4.0', risk: 'low', priority: 1 },
    ]);
    expect(r.evidence.map((e) => e.ref)).toEqual(['incident:inc-1', 'deployment:checkout:v2.4.0']);
    const cut = await callTool(getIncident, { id: 'inc-1' }, ctx(A, { maxRows: 2 }));
    expect(cut).toMatchObject({ rows: 2, truncated: true });
    expect((cut.data as { timeline: { kind: string }[] }).timeline.map((s) => s.kind)).toEqual(['anomaly', 'anomaly']);
  });
});

describe('anomalies, logs, deployments, alerts, external_status', () => {
  it('anomalies: newest first in the last hour, by minimum severity, each cited and its series too', async () => {
    const r = await callTool(anomalies, {}, ctx(A));
    const list = (r.data as { anomalies: { id: string; severity: string; z: number }[] }).anomalies;
    expect(list.map((a) => a.id)).toEqual(['a-3', 'a-2', 'a-1']);
    expect(r.evidence.map((e) => e.ref)).toEqual(['anomaly:a-3', 'anomaly:a-2', 'anomaly:a-1', `series:payments:${LATENCY}`, `series:checkout:${LATENCY}`]);
    expect((await callTool(anomalies, { severity: 'high', service: 'checkout', since: '4h' }, ctx(A))).data).toMatchObject({
      anomalies: [{ id: 'a-2' }, { id: 'a-1' }, { id: 'a-old' }],
    });
    expect(await callTool(anomalies, { since: '4h' }, ctx(A, { maxRows: 3 }))).toMatchObject({ rows: 3, truncated: true });
  });

  it('logs: by level and above, by text case-insensitively, messages and labels redacted', async () => {
    const errors = await callTool(logs, { service: 'checkout', level: 'error' }, ctx(A));
    const lines = (errors.data as { lines: { level: string; message: string; labels: Record<string, string> }[] }).lines;
    expect(lines.map((l) => l.level)).toEqual(['fatal', 'error', 'error', 'error', 'error', 'error']);
    expect(json(lines)).not.toContain(STRIPE_KEY);
    expect(json(lines)).not.toContain('10.1.2.3');
    expect(lines[1]!.message).toMatch(/^payment failed: upstream timeout calling Stripe token=\[REDACTED:/);
    expect(errors.evidence).toEqual([
      { ref: 'logs:checkout:fatal', label: expect.stringContaining('1 fatal lines of checkout') },
      { ref: 'logs:checkout:error', label: expect.stringContaining('5 error lines of checkout') },
    ]);
    const matching = await callTool(logs, { contains: 'UPSTREAM TIMEOUT', since: '3h' }, ctx(A));
    expect(matching.rows).toBe(5);
    expect(await callTool(logs, { contains: 'upstream' }, ctx(A, { maxRows: 2 }))).toMatchObject({ rows: 2, truncated: true });
    expect((await callTool(logs, { contains: '%' }, ctx(A))).rows).toBe(0); // plain text, never a pattern
  });

  it('deployments: newest first, metadata redacted, one ref per version', async () => {
    const r = await callTool(deployments, {}, ctx(A));
    const list = (r.data as { deployments: { service: string; version: string; status: string; metadata: Record<string, string> }[] }).deployments;
    expect(list.map((d) => `${d.service} ${d.version} ${d.status}`)).toEqual([
      'checkout v2.4.0 succeeded',
      'checkout v2.4.0 started',
      'payments v1.9.0 succeeded',
    ]);
    expect(list[0]!.metadata.note).toBe('rotated db password=[REDACTED:credential]');
    expect(r.evidence.map((e) => e.ref)).toEqual(['deployment:checkout:v2.4.0', 'deployment:payments:v1.9.0']);
    expect((await callTool(deployments, { since: '2h' }, ctx(A))).rows).toBe(2);
    expect((await callTool(deployments, { service: 'payments', since: new Date(NOW - 6 * HOUR).toISOString(), until: '4h' }, ctx(A))).rows).toBe(1);
    expect(await callTool(deployments, {}, ctx(A, { maxRows: 1 }))).toMatchObject({ rows: 1, truncated: true });
  });

  it('alerts: the latest state of each, firing still or resolved in the range, summaries redacted', async () => {
    const r = await callTool(alerts, {}, ctx(A));
    const list = (r.data as { alerts: { fingerprint: string; status: string; summary: string }[] }).alerts;
    expect(list.map((a) => `${a.fingerprint} ${a.status}`)).toEqual(['fp-1 firing', 'fp-2 resolved']);
    expect(list[0]!.summary).not.toContain('abcdefghijklmnopqrstu');
    expect(r.evidence.map((e) => e.ref)).toEqual(['alert:fp-1', 'alert:fp-2']);
    expect((await callTool(alerts, { status: 'firing' }, ctx(A))).rows).toBe(1);
    // Until before fp-2 resolved: it was firing then.
    expect((await callTool(alerts, { status: 'firing', until: '150m' }, ctx(A))).data).toMatchObject({ alerts: [{ fingerprint: 'fp-2', status: 'firing' }] });
    expect((await callTool(alerts, { since: '7d' }, ctx(A))).rows).toBe(3);
    expect(await callTool(alerts, {}, ctx(A, { maxRows: 1 }))).toMatchObject({ rows: 1, truncated: true });
  });

  it('external_status: degraded subjects with their services; recovered ones when asked', async () => {
    const r = await callTool(externalStatus, {}, ctx(A));
    expect((r.data as { subjects: unknown[] }).subjects).toEqual([
      expect.objectContaining({
        provider: 'Stripe',
        subject: 'API',
        ref: 'status:Stripe:API',
        degraded: true,
        impact: 'major',
        services: ['checkout', 'payments'],
      }),
    ]);
    expect(r.evidence.map((e) => e.ref)).toEqual(['status:Stripe:API']);
    const all = await callTool(externalStatus, { include_recovered: true, since: '6h' }, ctx(A));
    expect((all.data as { subjects: { ref: string; degraded: boolean; previous: string | null }[] }).subjects).toEqual([
      expect.objectContaining({ ref: 'status:Stripe:API', degraded: true }),
      expect.objectContaining({ ref: 'status:AWS:S3', degraded: false, previous: 'degraded_performance' }),
    ]);
    // At 4h ago S3 was degraded and Stripe fine.
    expect((await callTool(externalStatus, { until: '4h' }, ctx(A))).evidence.map((e) => e.ref)).toEqual(['status:AWS:S3']);
    expect((await callTool(externalStatus, { service: 'payments' }, ctx(A))).rows).toBe(1);
  });
});

describe('arguments and failures', () => {
  it('bad arguments are refused by the schema: unknown keys, unbounded strings, bad times, wrong kinds', () => {
    expect(logs.args.safeParse({ contains: 'x'.repeat(201) }).success).toBe(false);
    expect(logs.args.safeParse({ level: 'loud' }).success).toBe(false);
    expect(metricSeries.args.safeParse({ service: 'checkout', metric: LATENCY, since: 'last tuesday' }).success).toBe(false);
    expect(metricSeries.args.safeParse({ service: 'checkout' }).success).toBe(false);
    expect(topServices.args.safeParse({ by: 'cpu' }).success).toBe(false);
    expect(deployments.args.safeParse({ sql: 'SELECT 1' }).success).toBe(false);
    expect(deployments.args.safeParse({ limit: 0 }).success).toBe(false);
  });

  it('ranges that make no sense or are too long are clear errors', async () => {
    await expect(callTool(deployments, { since: '1h', until: '2h' }, ctx(A))).rejects.toThrow(/since .* must be before until/);
    await expect(callTool(anomalies, { since: '8d' }, ctx(A))).rejects.toThrow(/longer than 7d/);
  });

  it('ClickHouse unreachable: an Error that says what could not be read', async () => {
    const down = { query: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8123')) } as unknown as ClickHouseClient;
    await expect(callTool(deployments, {}, toolContext(down, A, NOW))).rejects.toThrow('could not read deployments from ClickHouse: connect ECONNREFUSED');
  });

  it('a message out of time reads nothing', async () => {
    const late = new AbortController();
    late.abort();
    await expect(callTool(logs, {}, ctx(A, { signal: late.signal }))).rejects.toThrow(/ran out/);
  });

  it('github_activity is offered only with GitHub configured', () => {
    expect(toolsFor({}).map((t) => t.name)).not.toContain('github_activity');
    const github = { apiUrl: 'http://x', token: 't', repos: {}, fetch: async () => ({ status: 200, text: async () => '[]' }) };
    expect(toolsFor({ github }).map((t) => t.name)).toContain('github_activity');
  });
});
