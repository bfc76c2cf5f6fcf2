import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS, type AgentEvent, type ExternalStatusChange } from '../schemas/topics.ts';
import { expandGrafanaSql, expandMacros, interpolateVariables, secondsToHms, type GrafanaRequest, type VariableValue } from './helpers/grafana-macros.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { gaussian, seededRandom } from './helpers/random.ts';

/**
 * The Grafana dashboards in compose/grafana/provisioning: their JSON is what
 * Grafana provisions, and every panel's SQL, expanded as Grafana and the
 * ClickHouse plugin expand it, runs against ClickHouse holding what the real
 * pipeline wrote (rollups, anomalies, an incident and its analysis, late
 * points, dead letters, notifications, and Autopilot's own metrics), and
 * returns the columns its panel needs.
 */
const PROVISIONING = new URL('../compose/grafana/provisioning/', import.meta.url);
const DASHBOARD_DIR = new URL('dashboards/autopilot/', PROVISIONING);
const MIN = 60_000;

interface Target {
  refId: string;
  datasource: { type: string; uid: string };
  editorType: string;
  format: number;
  rawSql: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets: Target[];
}
interface Variable {
  name: string;
  type: string;
  datasource: { type: string; uid: string };
  query: { rawSql: string; editorType: string };
  multi: boolean;
  includeAll: boolean;
}
interface Annotation {
  name: string;
  builtIn?: number;
  datasource: { type: string; uid: string };
  target?: Target;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: Variable[] };
  annotations: { list: Annotation[] };
  panels: Panel[];
}

const dashboardFiles = readdirSync(DASHBOARD_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const dashboards: Record<string, Dashboard> = Object.fromEntries(
  dashboardFiles.map((f) => {
    const d = JSON.parse(readFileSync(new URL(f, DASHBOARD_DIR), 'utf8')) as Dashboard;
    return [d.uid, d];
  }),
);
const byUid = (uid: string) => {
  const d = dashboards[uid];
  if (!d) throw new Error(`no dashboard ${uid} in ${DASHBOARD_DIR.pathname}`);
  return d;
};

describe('the macro expander (as grafana/clickhouse-datasource and grafana-plugin-sdk-go expand)', () => {
  const req: GrafanaRequest = {
    from: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
    to: Date.UTC(2025, 0, 2, 4, 4, 5, 999),
    intervalMs: 30_000,
    variables: { tenant: "acme's", service: ['checkout', 'payments'], one: ['only'], metric: 'latency_ms' },
  };
  const from = Math.floor(req.from / 1000);
  const to = Math.floor(req.to / 1000);

  it('expands the time macros to seconds and milliseconds', () => {
    expect(expandMacros('WHERE $__timeFilter(ts)', req)).toBe(`WHERE ts >= toDateTime(${from}) AND ts <= toDateTime(${to})`);
    expect(expandMacros('WHERE $__timeFilter_ms(ts)', req)).toBe(
      `WHERE ts >= fromUnixTimestamp64Milli(${req.from}) AND ts <= fromUnixTimestamp64Milli(${req.to})`,
    );
    expect(expandMacros('$__fromTime, $__toTime, $__fromTime_ms, $__toTime_ms', req)).toBe(
      `toDateTime(${from}), toDateTime(${to}), fromUnixTimestamp64Milli(${req.from}), fromUnixTimestamp64Milli(${req.to})`,
    );
    expect(expandMacros('$__dateFilter(d)', req)).toBe("d >= toDate('2025-01-02') AND d <= toDate('2025-01-02')");
  });

  it('expands the interval macros from the panel interval, at least one second or millisecond', () => {
    expect(expandMacros('$__timeInterval(ts)', req)).toBe('toStartOfInterval(toDateTime(ts), INTERVAL 30 second)');
    expect(expandMacros('$__timeInterval_ms(ts)', req)).toBe('toStartOfInterval(toDateTime64(ts, 3), INTERVAL 30000 millisecond)');
    expect(expandMacros('x / $__interval_s', req)).toBe('x / 30');
    expect(expandMacros('$__interval_s|$__timeInterval(t)', { ...req, intervalMs: 200 })).toBe('1|toStartOfInterval(toDateTime(t), INTERVAL 1 second)');
  });

  it('parses arguments like sqlutil: nested brackets, only when "(" follows at once, a name that is a prefix is not matched', () => {
    expect(expandMacros('$__timeFilter(toDateTime(a, 3) )', req)).toBe(`toDateTime(a, 3) >= toDateTime(${from}) AND toDateTime(a, 3) <= toDateTime(${to})`);
    expect(expandMacros('$__fromTime (1)', req)).toBe(`toDateTime(${from}) (1)`);
    expect(expandMacros('$__timeFilter_ms(a) OR $__timeFilter(a)', req)).toBe(
      `a >= fromUnixTimestamp64Milli(${req.from}) AND a <= fromUnixTimestamp64Milli(${req.to}) OR a >= toDateTime(${from}) AND a <= toDateTime(${to})`,
    );
    expect(expandMacros('$__unknownMacro(x)', req)).toBe('$__unknownMacro(x)');
    expect(() => expandMacros('$__timeFilter(a', req)).toThrow(/missing close bracket/);
    expect(() => expandMacros('$__timeFilter(a, b)', req)).toThrow(/expected 1 argument, received 2/);
  });

  it('interpolates variables as Grafana does with the plugin format: raw, quoted lists, explicit formats', () => {
    expect(interpolateVariables("m = '$metric' AND m = '${metric}'", req)).toBe("m = 'latency_ms' AND m = 'latency_ms'");
    expect(interpolateVariables('service IN ($service)', req)).toBe("service IN ('checkout','payments')");
    expect(interpolateVariables('t = ${tenant:singlequote}', req)).toBe("t = 'acme\\'s'");
    expect(interpolateVariables('t = ${tenant:sqlstring}', req)).toBe("t = 'acme''s'");
    expect(interpolateVariables('s IN (${service:singlequote}) AND ${one:singlequote}', req)).toBe("s IN ('checkout','payments') AND 'only'");
    expect(interpolateVariables('[[metric]] $__interval $__interval_ms $__nope', req)).toBe('latency_ms 30s 30000 $__nope');
    expect(secondsToHms(90)).toBe('1m');
    expect(secondsToHms(0.25)).toBe('250ms');
  });

  it('runs variables first, macros second', () => {
    expect(expandGrafanaSql('SELECT $__timeInterval(ts) AS time FROM t WHERE tenant = ${tenant:singlequote} AND $__timeFilter(ts)', req)).toBe(
      `SELECT toStartOfInterval(toDateTime(ts), INTERVAL 30 second) AS time FROM t WHERE tenant = 'acme\\'s' AND ts >= toDateTime(${from}) AND ts <= toDateTime(${to})`,
    );
  });
});

describe('provisioning', () => {
  const datasourceYaml = readFileSync(new URL('datasources/clickhouse.yaml', PROVISIONING), 'utf8');
  const datasourceUid = /^\s*uid:\s*(\S+)\s*$/m.exec(datasourceYaml)?.[1];
  const providerYaml = readFileSync(new URL('dashboards/autopilot.yaml', PROVISIONING), 'utf8');

  it('provisions the ClickHouse plugin datasource and a file provider for the dashboard folder', () => {
    expect(datasourceYaml).toMatch(/type:\s*grafana-clickhouse-datasource/);
    expect(datasourceUid).toBe('autopilot-clickhouse');
    expect(providerYaml).toMatch(/type:\s*file/);
    // The compose file mounts compose/grafana/provisioning at /etc/grafana/provisioning.
    const path = /^\s*path:\s*(\S+)\s*$/m.exec(providerYaml)?.[1];
    expect(path).toBe('/etc/grafana/provisioning/dashboards/autopilot');
    const compose = readFileSync(new URL('../compose/docker-compose.yml', import.meta.url), 'utf8');
    expect(compose).toContain('./grafana/provisioning:/etc/grafana/provisioning');
    expect(compose).toMatch(/GF_INSTALL_PLUGINS:\s*grafana-clickhouse-datasource/);
  });

  it('has the four dashboards, each valid for Grafana and bound to the provisioned datasource', () => {
    expect(Object.keys(dashboards).sort()).toEqual(['autopilot-incidents', 'autopilot-llm-agents', 'autopilot-pipeline-health', 'autopilot-service-overview']);
    for (const d of Object.values(dashboards)) {
      expect(d.schemaVersion, d.uid).toBeGreaterThanOrEqual(39);
      expect(d.title, d.uid).toMatch(/^Autopilot \/ /);
      expect(d.panels.length, d.uid).toBeGreaterThan(0);
      expect(new Set(d.panels.map((p) => p.id)).size, `${d.uid} panel ids`).toBe(d.panels.length);
      for (const p of d.panels) {
        expect(p.datasource, `${d.uid} / ${p.title}`).toEqual({ type: 'grafana-clickhouse-datasource', uid: datasourceUid });
        expect(p.gridPos.w + p.gridPos.x, `${d.uid} / ${p.title} fits the 24-column grid`).toBeLessThanOrEqual(24);
        expect(p.targets, `${d.uid} / ${p.title}`).toHaveLength(1);
        const t = p.targets[0]!;
        expect(t.datasource.uid).toBe(datasourceUid);
        expect(t.editorType).toBe('sql');
        expect(t.format, `${p.title}: 0 = time series, 1 = table`).toBe(p.type === 'timeseries' ? 0 : 1);
      }
      const names = d.templating.list.map((v) => v.name);
      expect(names, d.uid).toContain('tenant');
      for (const v of d.templating.list) {
        expect(v.type).toBe('query');
        expect(v.datasource.uid).toBe(datasourceUid);
        expect(v.query.editorType).toBe('sql');
        expect(v.query.rawSql.length).toBeGreaterThan(0);
      }
    }
    expect(byUid('autopilot-service-overview').templating.list.map((v) => v.name)).toEqual(['tenant', 'service', 'metric']);
    expect(byUid('autopilot-incidents').templating.list.map((v) => v.name)).toEqual(['tenant', 'service', 'incident']);
    expect(byUid('autopilot-pipeline-health').templating.list.map((v) => v.name)).toEqual(['self_tenant', 'tenant']);
    expect(byUid('autopilot-llm-agents').templating.list.map((v) => v.name)).toEqual(['tenant', 'agent', 'model']);
    expect(byUid('autopilot-service-overview').annotations.list.map((a) => a.name)).toContain('Deployments');
  });

  it('filters every query on a tenant variable, and on $service where the dashboard has one', () => {
    for (const d of Object.values(dashboards)) {
      const hasService = d.templating.list.some((v) => v.name === 'service');
      const queries = [
        ...d.panels.map((p) => [p.title, p.targets[0]!.rawSql] as const),
        ...d.annotations.list.filter((a) => a.target).map((a) => [a.name, a.target!.rawSql] as const),
      ];
      for (const [title, sql] of queries) {
        expect(sql, `${d.uid} / ${title}`).toMatch(/\$\{(self_)?tenant:singlequote\}/);
        if (hasService) expect(sql, `${d.uid} / ${title}`).toContain('${service:singlequote}');
      }
    }
  });
});

/* ------------------------------------------------------------------ real data */

let p: TestPipeline;
let hook: { server: Server; url: string; received: unknown[] };
const selfTenant = `grafana-self-${randomUUID().slice(0, 8)}`;
// The scenario lies ahead of the wall clock: the self-monitor publishes points stamped now into the
// same metrics partitions, and a partition's watermark only moves forward, so history behind now
// would arrive late. (The gateway accepts event times up to a day ahead.)
const T = Date.now() + 35 * MIN;
const rangeFrom = T - 40 * MIN;
const rangeTo = T + 10 * MIN;

async function startHook(): Promise<typeof hook> {
  const received: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

beforeAll(async () => {
  // The gateway validates target URLs against the process environment: the hook listens on loopback.
  process.env.NOTIFY_ALLOW_LOOPBACK = 'true';
  hook = await startHook();
  p = await startTestPipeline('grafana', {
    processors: ['sink', 'agents', 'rollup', 'detect', 'error-rate', 'correlate', 'analyze', 'notify'],
    env: {
      AUTOPILOT_SELF_TENANT: selfTenant,
      AUTOPILOT_SELF_INTERVAL_SECONDS: '1',
      // Nothing listens on port 9: the model is unreachable at once and the rules answer (a fallback).
      OLLAMA_HOST: 'http://127.0.0.1:9',
      ANALYZE_TIMEOUT_MS: '2000',
      ANALYZE_RETRIES: '0',
      NOTIFY_ALLOW_LOOPBACK: 'true',
      NOTIFY_RETRIES: '0',
    },
  });
}, 180_000);
afterAll(async () => {
  await p?.stop();
  await new Promise<void>((resolve) => (hook ? hook.server.close(() => resolve()) : resolve()));
});

/** The product scenario (as in scenario.test.ts): steady latency, a deployment at T, then slow requests and ERROR logs, and an Alertmanager alert. */
async function playScenario(): Promise<void> {
  const r = seededRandom(7);
  const service = 'checkout';
  const point = (at: number, value: number, svc = service) => ({
    timestamp: at,
    metric_name: 'http_request_duration_ms',
    value,
    labels: { service: svc, environment: 'prod' },
  });
  const target = await p.post('/v1/notification-targets', { name: 'grafana test hook', kind: 'webhook', url: hook.url });
  expect(target.status, await target.clone().text()).toBeLessThan(300);
  // Several batches, more than a self-monitoring interval apart: the accepted counter rises between scrapes.
  const steady = Array.from({ length: 180 }, (_, i) => point(T - 30 * MIN + i * 10_000, 100 + 5 * gaussian(r)));
  for (let i = 0; i < 3; i++) {
    expect((await p.post('/v1/metrics', steady.slice(i * 60, (i + 1) * 60))).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 1200));
  }
  const deploy = { timestamp: T, service, version: 'v2.4.0', status: 'succeeded', metadata: { commit: 'abc123', deployed_by: 'ci' } };
  expect((await p.post('/v1/deployments', deploy)).status).toBe(202);
  const slow = Array.from({ length: 12 }, (_, i) => point(T + (i + 1) * 10_000, 1500 + 50 * gaussian(r)));
  expect((await p.post('/v1/metrics', slow)).status).toBe(202);
  const quiet = Array.from({ length: 90 }, (_, i) => ({ timestamp: T - 30 * MIN + i * 20_000, level: 'info', message: 'GET /cart 200', service }));
  const errors = Array.from({ length: 20 }, (_, i) => ({
    timestamp: T + 15_000 + i * 2000,
    level: 'error',
    message: `upstream timeout after 1500 ms (${i})`,
    service,
  }));
  const later = { timestamp: T + 3 * MIN, level: 'info', message: 'GET /cart 200', service };
  expect((await p.post('/v1/logs', [...quiet, ...errors, later])).status).toBe(202);
  const alert = {
    version: '4',
    groupKey: '{}:{alertname="CheckoutLatencyHigh"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'autopilot',
    groupLabels: { alertname: 'CheckoutLatencyHigh' },
    commonLabels: { alertname: 'CheckoutLatencyHigh', service, severity: 'critical' },
    commonAnnotations: { summary: 'checkout p99 over 1 s' },
    externalURL: 'http://alertmanager.example:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'CheckoutLatencyHigh', service, severity: 'critical' },
        annotations: { summary: 'checkout p99 over 1 s' },
        startsAt: new Date(T + 60_000).toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus.example:9090/graph',
        fingerprint: 'c0ffee00c0ffee00',
      },
    ],
  };
  expect((await p.post('/v1/alertmanager', alert)).status).toBe(202);
  // Another tenant's data in the same tables: none of it may show on tenant a's dashboards.
  const intruder = Array.from({ length: 30 }, (_, i) => point(T - 10 * MIN + i * 10_000, 50, 'intruder-svc'));
  expect((await p.post('/v1/metrics', intruder, p.keys.b)).status).toBe(202);
  expect((await p.post('/v1/logs', [{ timestamp: T, level: 'error', message: 'intruder error', service: 'intruder-svc' }], p.keys.b)).status).toBe(202);
  expect((await p.post('/v1/deployments', { timestamp: T, service: 'intruder-svc', version: 'x9', status: 'succeeded' }, p.keys.b)).status).toBe(202);
  // A refused request, for the refusals panel.
  expect((await p.post('/v1/metrics', '{not json')).status).toBe(400);
}

/**
 * Third-party status as the status_page jobs publish it, after the incident was analysed: Stripe's API in a
 * major outage for checkout (it joins the open incident), GitHub degraded with no service mapped, Twilio
 * degraded and recovered before the incident, and tenant b's provider.
 */
async function publishThirdPartyStatus(): Promise<void> {
  const change = (id: string, at: number, over: Partial<ExternalStatusChange>): ExternalStatusChange => ({
    change_id: `grafana-${id}`,
    tenant: p.tenants.a,
    service: 'checkout',
    job_id: 'job_status',
    provider: 'Stripe',
    subject_kind: 'component',
    subject_id: 'api',
    subject_name: 'API',
    from_status: 'operational',
    to_status: 'major_outage',
    degraded: true,
    impact: 'major',
    message: 'Elevated error rates',
    url: 'https://status.stripe.com',
    at,
    ...over,
  });
  const twilio = { provider: 'Twilio', subject_id: 'sms', subject_name: 'SMS', url: 'https://status.twilio.com' };
  await p.publisher.publish('externalStatus', [
    change('stripe', T + 2 * MIN, {}),
    change('github', T + MIN, {
      service: '',
      provider: 'GitHub',
      subject_id: 'actions',
      subject_name: 'Actions',
      to_status: 'degraded_performance',
      impact: 'minor',
    }),
    change('twilio-down', T - 20 * MIN, { ...twilio, to_status: 'degraded_performance', impact: 'minor' }),
    change('twilio-up', T - 15 * MIN, { ...twilio, from_status: 'degraded_performance', to_status: 'operational', degraded: false, impact: 'none' }),
    // Minor: a major outage would open an incident of its own for tenant b, and the incident list must show none.
    change('intruder', T + MIN, { tenant: p.tenants.b, service: 'intruder-svc', provider: 'intruder-pay', to_status: 'degraded_performance', impact: 'minor' }),
  ]);
}

/** Records no processor can decode: each processor on the metrics topic dead-letters them. */
async function sendUndecodable(): Promise<void> {
  const producer = p.services.kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: TOPICS.metricBatches.topic, acks: -1, messages: [{ key: 'grafana-test', value: Buffer.from('definitely not avro') }] });
  } finally {
    await producer.disconnect();
  }
}

const count = async (sql: string, params: Record<string, unknown> = {}) => Number((await p.rows<{ n: string }>(sql, params))[0]!.n);

interface Result {
  meta: { name: string; type: string }[];
  data: Record<string, unknown>[];
}
async function run(sql: string): Promise<Result> {
  const result = await p.services.clickhouse!.query({ query: sql, format: 'JSON' });
  const { meta, data } = (await result.json()) as Result;
  return { meta, data };
}

const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;
const TIME = /^(Nullable\()?DateTime/;

/** What Grafana would do on opening the dashboard: each variable's query, with the variables before it chosen. */
async function chooseVariables(
  d: Dashboard,
  want: Record<string, VariableValue | 'All'>,
  range: { from: number; to: number },
): Promise<Record<string, VariableValue>> {
  const variables: Record<string, VariableValue> = {};
  for (const v of d.templating.list) {
    const { data, meta } = await run(expandGrafanaSql(v.query.rawSql, { ...range, intervalMs: MIN, variables }));
    expect(meta, `${d.uid} variable ${v.name} returns one column`).toHaveLength(1);
    const options = data.map((row) => String(Object.values(row)[0]));
    const wanted = want[v.name];
    if (wanted === 'All') {
      expect(v.includeAll, `${v.name} offers All`).toBe(true);
      expect(options.length, `${d.uid} variable ${v.name} has options`).toBeGreaterThan(0);
      variables[v.name] = options; // "All" without a custom all value = every option
    } else {
      for (const w of [wanted ?? []].flat()) expect(options, `${d.uid} variable ${v.name}`).toContain(w);
      variables[v.name] = wanted!;
    }
  }
  return variables;
}

interface PanelRun {
  panel: Panel;
  sql: string;
  result: Result;
}
async function runPanels(d: Dashboard, variables: Record<string, VariableValue>, range: { from: number; to: number }): Promise<Map<string, PanelRun>> {
  const out = new Map<string, PanelRun>();
  for (const panel of d.panels) {
    const sql = expandGrafanaSql(panel.targets[0]!.rawSql, { ...range, intervalMs: MIN, variables });
    expect(sql, panel.title).not.toMatch(/\$\{|\$__|\$[a-z]/);
    let result: Result;
    try {
      result = await run(sql);
    } catch (err) {
      throw new Error(`${d.uid} / ${panel.title}: ${(err as Error).message}\n${sql}`);
    }
    checkShape(panel, result);
    out.set(panel.title, { panel, sql, result });
  }
  return out;
}

/** The columns each panel type needs: time series a DateTime `time` (ascending) and numbers; tables named columns; stats one number. */
function checkShape(panel: Panel, { meta, data }: Result): void {
  const what = panel.title;
  for (const c of meta) expect(c.name, `${what}: every column is named`).toMatch(/^[a-z_][a-z0-9_]*$/);
  if (panel.type === 'timeseries') {
    expect(meta[0], `${what}: first column`).toMatchObject({ name: 'time' });
    expect(meta[0]!.type, `${what}: time type`).toMatch(TIME);
    const values = meta.slice(1).filter((c) => NUMERIC.test(c.type));
    expect(values.length, `${what}: numeric columns`).toBeGreaterThan(0);
    for (const c of meta.slice(1))
      expect(c.type, `${what}: ${c.name} is a number or a label`).toMatch(/^(Nullable\()?(U?Int|Float|Decimal|String|LowCardinality)/);
    const times = data.map((row) => Date.parse(`${String(row.time).replace(' ', 'T')}Z`));
    expect(
      times.every((t, i) => i === 0 || t >= times[i - 1]!),
      `${what}: rows ascending by time`,
    ).toBe(true);
  } else if (panel.type === 'stat') {
    expect(meta, `${what}: one value`).toHaveLength(1);
    expect(meta[0]!.type).toMatch(NUMERIC);
  } else {
    expect(panel.type).toBe('table');
    expect(meta.length, `${what}: columns`).toBeGreaterThan(1);
  }
}

const sum = (rows: Record<string, unknown>[], col: string) => rows.reduce((a, r) => a + Number(r[col] ?? 0), 0);
const column = (r: PanelRun | undefined, col: string) => r!.result.data.map((row) => row[col]);
const nonEmpty = (runs: Map<string, PanelRun>) => {
  for (const [title, r] of runs) expect(r.result.data.length, `${title} returns rows: ${r.sql}`).toBeGreaterThan(0);
};
const noIntruder = (runs: Map<string, PanelRun>) => {
  for (const [title, r] of runs) expect(JSON.stringify(r.result.data), `${title} shows only tenant a`).not.toMatch(/intruder/);
};

describe('every panel on data from the real pipeline', () => {
  let range: { from: number; to: number };

  beforeAll(async () => {
    await playScenario();
    const t = { t: p.tenants.a };
    // The incident, analysed (the rules answer: the model is unreachable) and notified.
    await eventually(
      () => count("SELECT count() AS n FROM incidents FINAL WHERE tenant = {t:String} AND suspect_version = 'v2.4.0'", t),
      (n) => n === 1,
      90_000,
    );
    await eventually(
      () => count('SELECT count() AS n FROM analyses FINAL WHERE tenant = {t:String}', t),
      (n) => n > 0,
      60_000,
    );
    await eventually(
      () => count('SELECT count() AS n FROM notification_deliveries FINAL WHERE tenant = {t:String}', t),
      (n) => n > 0,
      30_000,
    );
    await publishThirdPartyStatus();
    await eventually(
      () => count('SELECT count() AS n FROM external_status_changes FINAL WHERE tenant IN ({t:String}, {b:String})', { ...t, b: p.tenants.b }),
      (n) => n === 5,
      30_000,
    );
    // Stripe's outage joins the open incident of checkout, which depends on it.
    await eventually(
      () => count("SELECT count() AS n FROM incidents FINAL WHERE tenant = {t:String} AND signals LIKE '%Stripe: API major_outage (major)%'", t),
      (n) => n === 1,
      30_000,
    );
    // Windows closed, then a point for one of them: late.
    await eventually(
      () => count("SELECT count() AS n FROM metric_rollups FINAL WHERE tenant = {t:String} AND service = 'checkout'", t),
      (n) => n >= 10,
      60_000,
    );
    // At the series' current level: the detector judges points in arrival order, and an outlier
    // 20 minutes back would become an anomaly before the deployment (no longer the suspect).
    const late = { timestamp: T - 20 * MIN, metric_name: 'http_request_duration_ms', value: 1500, labels: { service: 'checkout', environment: 'prod' } };
    expect((await p.post('/v1/metrics', late)).status).toBe(202);
    await eventually(
      () => count('SELECT count() AS n FROM metric_late_points FINAL WHERE tenant = {t:String}', t),
      (n) => n === 1,
      30_000,
    );
    await sendUndecodable();
    // Autopilot's own counters, scraped after all of the above.
    const self = (metric: string) =>
      count('SELECT count() AS n FROM metric_points WHERE tenant = {s:String} AND metric_name = {m:String} AND timestamp > now64(3) - INTERVAL 5 SECOND', {
        s: selfTenant,
        m: metric,
      });
    // The undecodable record, dead-lettered by each processor on the metrics topic, each counted in a scrape.
    await eventually(
      () =>
        count(
          "SELECT uniqExact(labels['processor']) AS n FROM metric_points WHERE tenant = {s:String} AND metric_name = 'autopilot_processor_dead_letters_total'",
          { s: selfTenant },
        ),
      (n) => n === 3,
      30_000,
    );
    for (const metric of [
      'autopilot_analysis_fallbacks_total',
      'autopilot_analysis_seconds_count',
      'autopilot_gateway_requests_refused_total',
      'autopilot_processor_consumer_lag',
    ]) {
      await eventually(
        () => self(metric),
        (n) => n > 0,
        30_000,
      );
    }
    range = { from: rangeFrom, to: Math.max(rangeTo, Date.now() + MIN) };
  }, 300_000);

  it('Service overview: throughput, percentiles, error rate, anomalies, incidents, deployments, of tenant a only', async () => {
    const d = byUid('autopilot-service-overview');
    const variables = await chooseVariables(d, { tenant: p.tenants.a, service: 'All', metric: 'http_request_duration_ms' }, range);
    expect(variables.service).toEqual(['checkout']);
    const runs = await runPanels(d, variables, range);
    nonEmpty(runs);
    noIntruder(runs);

    const throughput = runs.get('Throughput')!.result.data;
    // Closed windows only; the steady 180 samples lie well behind the watermark.
    expect(sum(throughput, 'per_second') * 60).toBeGreaterThanOrEqual(170);
    const latency = runs.get('Latency p50 / p95 / p99')!.result.data;
    for (const row of latency) expect(Number(row.p50)).toBeLessThanOrEqual(Number(row.p99));
    expect(
      latency.some((row) => Math.abs(Number(row.p50) - 100) < 15),
      'steady windows near 100 ms',
    ).toBe(true);
    expect(sum(runs.get('Error rate')!.result.data, 'errors_per_second') * 60).toBeCloseTo(20, 6);
    expect(column(runs.get('Anomalies by severity'), 'severity')).toContain('critical');
    expect(Number(runs.get('Open incidents')!.result.data[0]!.open_incidents)).toBe(1);
    expect(column(runs.get('Deployments'), 'version')).toEqual(['v2.4.0']);

    const annotation = d.annotations.list.find((a) => a.name === 'Deployments')!.target!;
    const { meta, data } = await run(expandGrafanaSql(annotation.rawSql, { ...range, intervalMs: MIN, variables }));
    expect(meta.map((c) => c.name)).toEqual(['time', 'title', 'text', 'tags']);
    expect(meta[0]!.type).toMatch(TIME);
    expect(data).toHaveLength(1);
    expect(data[0]!.text).toBe('checkout v2.4.0 (succeeded) commit abc123');
  });

  it('Incidents: the open incident, its anomalies and signals, and its analysis', async () => {
    const d = byUid('autopilot-incidents');
    const variables = await chooseVariables(d, { tenant: p.tenants.a, service: 'All', incident: 'All' }, range);
    expect(variables.incident).toHaveLength(1);
    const runs = await runPanels(d, variables, range);
    nonEmpty(runs);
    noIntruder(runs);

    const [incident] = runs.get('Open and recent incidents')!.result.data;
    expect(incident).toMatchObject({ service: 'checkout', status: 'open', suspect_version: 'v2.4.0', incident_id: variables.incident![0] });
    expect(incident!.root_cause, 'the latest analysis is joined in').toEqual(expect.any(String));
    expect(incident!.analysis_source).toBe('rules');
    expect(column(runs.get('Anomalies of these incidents'), 'kind')).toEqual(expect.arrayContaining(['metric', 'error_rate']));
    expect(column(runs.get('Signals of these incidents'), 'kind')).toEqual(
      expect.arrayContaining(['deployment', 'anomaly', 'error_spike', 'alert', 'dependency']),
    );
    expect(column(runs.get('Signals of these incidents'), 'summary')).toContain('Stripe: API major_outage (major)');
    // Latest state per subject: degraded first (the worse impact first), then what recovered in the range.
    const status = runs.get('Third-party status')!.result.data;
    expect(status.map((r) => [r.provider, r.subject, r.status, r.state, r.services])).toEqual([
      ['Stripe', 'API', 'major_outage', 'degraded', 'checkout'],
      ['GitHub', 'Actions', 'degraded_performance', 'degraded', ''],
      ['Twilio', 'SMS', 'operational', 'recovered', 'checkout'],
    ]);
    const [analysis] = runs.get('Analysis summary')!.result.data;
    expect(analysis).toMatchObject({ incident_id: variables.incident![0], source: 'rules' });
    expect(analysis!.fallback_reason).toEqual(expect.any(String));
    expect(Number(runs.get('Opened in range')!.result.data[0]!.opened)).toBe(1);
  });

  it('Pipeline health: ingest, refusals, lag, dead letters, late points, analysis latency and fallbacks, notifications', async () => {
    const d = byUid('autopilot-pipeline-health');
    const variables = await chooseVariables(d, { self_tenant: selfTenant, tenant: p.tenants.a }, range);
    const runs = await runPanels(d, variables, range);
    nonEmpty(runs);

    const ingest = runs.get('Ingest rate by protocol ($tenant)')!.result.data;
    expect(new Set(column(runs.get('Ingest rate by protocol ($tenant)'), 'protocol'))).toContain('json');
    // Counted from the scrapes: at least the batches sent after the first scrape that saw the counter.
    expect(sum(ingest, 'records_per_second') * 60).toBeGreaterThanOrEqual(60);
    const refused = runs.get('Refused requests by protocol and code (all tenants)')!.result.data;
    expect(refused.filter((r) => r.protocol === 'json').length).toBeGreaterThan(0);
    expect(sum(refused, 'refused')).toBeGreaterThanOrEqual(1);
    const deadLetters = runs.get('Dead letters by processor and reason (all tenants)')!.result.data;
    // One undecodable record, dead-lettered once by each processor reading the metrics topic.
    expect(new Set(deadLetters.map((r) => r.processor))).toEqual(new Set(['sink', 'rollup', 'detect']));
    expect(sum(deadLetters, 'dead_letters')).toBe(3);
    expect(column(runs.get('Consumer lag by processor (all tenants)'), 'processor')).toEqual(expect.arrayContaining(['sink', 'rollup']));
    expect(sum(runs.get('Late points by metric ($tenant)')!.result.data, 'late_points')).toBe(1);
    expect(column(runs.get('Analysis latency by source ($tenant)'), 'source')).toContain('rules');
    expect(sum(runs.get('Analysis fallbacks by reason ($tenant)')!.result.data, 'fallbacks')).toBeGreaterThanOrEqual(1);
    expect(sum(runs.get('Analysis fallbacks by reason (all tenants)')!.result.data, 'fallbacks')).toBeGreaterThanOrEqual(1);
    for (const row of runs.get('Analysis latency by source (all tenants)')!.result.data) expect(Number(row.mean_ms)).toBeGreaterThan(0);
    expect(sum(runs.get('Notifications by outcome ($tenant)')!.result.data, 'notifications')).toBeGreaterThanOrEqual(1);
    expect(hook.received.length).toBeGreaterThanOrEqual(1);
  });

  it('LLM and agents: calls, success rate, percentiles by agent and model, tokens, cost, top agents, errors by type', async () => {
    const d = byUid('autopilot-llm-agents');
    // 2 agents × 2 models, 10 calls each, one failed call per agent; tenant b's call must not show.
    const call = (i: number, agent: string, model: string, tenant = p.tenants.a): AgentEvent => ({
      event_id: `grafana-${agent}-${model}-${i}`,
      tenant,
      agent,
      model,
      provider: 'openai',
      operation: 'chat',
      started_at: T + i * 1000 + (agent === 'triage' ? 0 : 100) + (model === 'gpt-4o' ? 0 : 10),
      duration_ms: 100 * (i + 1),
      input_tokens: 1000,
      output_tokens: 100,
      cached_input_tokens: 0,
      cost: 0.01,
      status: i === 3 ? 'error' : 'ok',
      error_type: i === 3 ? 'rate_limit' : null,
      session_id: null,
      trace_id: '',
      span_id: '',
      source: 'api',
      attributes: {},
    });
    const events = ['triage', 'fixer'].flatMap((agent) =>
      ['gpt-4o', 'claude-sonnet-4'].flatMap((model) => Array.from({ length: 10 }, (_, i) => call(i, agent, model))),
    );
    await p.publisher.publish('agentEvents', [...events, call(0, 'intruder', 'gpt-4o', p.tenants.b)]);
    await eventually(
      () => count('SELECT count() AS n FROM agent_calls FINAL WHERE tenant IN ({a:String}, {b:String})', { a: p.tenants.a, b: p.tenants.b }),
      (n) => n === events.length + 1,
      60_000,
    );
    const variables = await chooseVariables(d, { tenant: p.tenants.a, agent: 'All', model: 'All' }, range);
    expect([...variables.agent!].sort()).toEqual(['fixer', 'triage']);
    const runs = await runPanels(d, variables, range);
    nonEmpty(runs);
    noIntruder(runs);
    expect(Number(runs.get('Calls')!.result.data[0]!.calls)).toBe(40);
    expect(Number(runs.get('Success rate')!.result.data[0]!.success_rate)).toBeCloseTo(36 / 40, 9);
    expect(Number(runs.get('Cost (USD)')!.result.data[0]!.cost_usd)).toBeCloseTo(0.4, 9);
    expect(sum(runs.get('Calls per second by agent')!.result.data, 'calls_per_second') * 60).toBeCloseTo(40, 6);
    const byModel = runs.get('Latency p50 / p95 / p99 by model')!.result.data;
    expect(new Set(byModel.map((r) => r.model))).toEqual(new Set(['gpt-4o', 'claude-sonnet-4']));
    expect(Math.max(...byModel.map((r) => Number(r.p99)))).toBe(1000);
    expect(column(runs.get('Top agents by cost'), 'agent').sort()).toEqual(['fixer', 'triage']);
    const errors = runs.get('Errors by type')!.result.data;
    expect(errors.map((r) => r.error_type)).toEqual(['rate_limit', 'rate_limit', 'rate_limit', 'rate_limit']);
    expect(sum(errors, 'errors')).toBe(4);
  });

  it('the analyst views answer the README examples', async () => {
    const latency = await p.rows<{ window_start: string; count: string; p50: number; p99: number }>(
      `SELECT window_start, count, p50, p99 FROM service_latency
       WHERE tenant = {t:String} AND service = 'checkout' AND metric_name = 'http_request_duration_ms'
       ORDER BY window_start`,
      { t: p.tenants.a },
    );
    expect(latency.length).toBeGreaterThanOrEqual(10);
    const steady = latency.filter((r) => Number(r.count) >= 5 && r.p50 < 200);
    expect(steady.length).toBeGreaterThan(0);
    for (const r of latency) expect(r.p50).toBeLessThanOrEqual(r.p99);
    const list = await p.rows<{ incident_id: string; status: string; root_cause: string | null; analyses: string }>(
      `SELECT incident_id, status, root_cause, analyses FROM incident_list WHERE tenant = {t:String} ORDER BY opened_at DESC`,
      { t: p.tenants.a },
    );
    expect(list).toHaveLength(1);
    expect(list[0]!.root_cause).toEqual(expect.any(String));
    expect(Number(list[0]!.analyses)).toBeGreaterThanOrEqual(1);
    expect(await p.rows(`SELECT * FROM incident_list WHERE tenant = {t:String}`, { t: p.tenants.b })).toEqual([]);
  });
});
