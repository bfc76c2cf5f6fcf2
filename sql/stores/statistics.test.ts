import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouseClient } from '../client.ts';
import { migrate } from '../migrate.ts';
import { StatisticsStore, TREND_METRICS, type Point } from './statistics.ts';

/**
 * The statistics store on the embedded ClickHouse, against values worked out
 * by hand from the rows written here (the arithmetic is beside each
 * expectation). Each table also gets a replayed copy of a row (it must count
 * once: FINAL), a row just outside the window on each side, and the same
 * rows for another tenant (which must never count). The store did not exist
 * before this change; each figure would be off by one or more if a filter
 * (tenant, window bounds, FINAL, outcome, role) were missing.
 *
 * Times are whole hours back from END, the start of the current hour (the
 * tables' TTLs are measured from the clock, so the rows must be recent). The
 * window is the 24 hours before END, in 24 buckets of an hour: bucket k is
 * [END − 24h + k·1h, END − 23h + k·1h), so "END − 90 min" is bucket 22 and
 * "END − 30 min" bucket 23.
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const END = Math.floor(Date.now() / HOUR) * HOUR;
const START = END - 24 * HOUR;
const DAY_S = 86_400;
const SELF = 'autopilot-self';
const A = 'tenant-a';
const B = 'tenant-b';

let ch: ClickHouseClient;
let store: StatisticsStore;
let offset = 0;

const insert = (table: string, values: Record<string, unknown>[]) => ch.insert({ table, format: 'JSONEachRow', values });
const position = () => ({ kafka_partition: 0, kafka_offset: offset++ });
/** spans.timestamp is DateTime64(9): an integer is read as nanoseconds. */
const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();

beforeAll(async () => {
  ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), 'autopilot-statistics-')) });
  await migrate(ch);
  store = new StatisticsStore(ch, SELF);

  // Metric samples of A: series /a at −90 min, −80 min, −30 min (the −30 min one written twice, as a replay does);
  // series /b at −30 min, −20 min. Outside: −25 h, and END itself (the window excludes its end). B: one at −30 min.
  const sample = (tenant: string, p: string, at: number) => ({
    tenant,
    service: 'api',
    metric_name: 'latency_ms',
    labels: { path: p, service: 'api' },
    timestamp: at,
    value: 1,
    ...position(),
  });
  await insert('metric_points', [
    sample(A, '/a', END - 90 * MIN),
    sample(A, '/a', END - 80 * MIN),
    sample(A, '/a', END - 30 * MIN),
    sample(A, '/a', END - 30 * MIN),
    sample(A, '/b', END - 30 * MIN),
    sample(A, '/b', END - 20 * MIN),
    sample(A, '/a', END - 25 * HOUR),
    sample(A, '/a', END),
    sample(B, '/a', END - 30 * MIN),
  ]);

  // The gateway's accepted-records counter, as self-monitoring stores it (tenant SELF, the caller in labels.tenant).
  const counter = (instance: string, protocol: string, forTenant: string, at: number, value: number, metric = 'autopilot_gateway_records_accepted_total') => ({
    tenant: SELF,
    service: 'autopilot',
    metric_name: metric,
    labels: { component: 'gateway', instance, kind: 'metrics', protocol, service: 'autopilot', tenant: forTenant },
    timestamp: at,
    value,
    ...position(),
  });
  await insert('metric_points', [
    // json on h:1, running since before the window: 100 at START − 4 min (the baseline, read back 5 min, not counted),
    // 130 at −23 h (+30), 150 at −90 min (+20), 10 at −30 min (a restart: +10), 25 at −10 min (+15). In the window: 75.
    counter('h:1', 'json', A, START - 4 * MIN, 100),
    counter('h:1', 'json', A, END - 23 * HOUR, 130),
    counter('h:1', 'json', A, END - 90 * MIN, 150),
    counter('h:1', 'json', A, END - 30 * MIN, 10),
    counter('h:1', 'json', A, END - 10 * MIN, 25),
    // remote_write on h:2, a process started at −50 min (first seen inside the window: its first value counts whole):
    // 40 at −50 min (+40), 100 at −40 min (+60). In the window: 100.
    counter('h:2', 'remote_write', A, END - 50 * MIN, 40),
    counter('h:2', 'remote_write', A, END - 40 * MIN, 100),
    // Not A's records, and not the accepted counter: never counted.
    counter('h:1', 'json', B, END - 90 * MIN, 500),
    counter('h:1', 'json', A, END - 90 * MIN, 900, 'autopilot_gateway_records_received_total'),
  ]);

  // Log lines of A: two inside (one written twice), one outside. Spans: one inside. Deployments: one inside, one outside.
  const line = (tenant: string, at: number, message: string) => ({ tenant, service: 'api', level: 'ERROR', timestamp: at, message, labels: {}, ...position() });
  await insert('log_entries', [
    line(A, END - 2 * HOUR, 'boom'),
    line(A, END - 2 * HOUR, 'boom'),
    line(A, END - HOUR, 'bang'),
    line(A, END - 30 * HOUR, 'old'),
    line(B, END - HOUR, 'theirs'),
  ]);
  await insert('spans', [
    { tenant: A, service: 'api', timestamp: ns(END - HOUR), trace_id: 't1', span_id: 's1', ...position() },
    { tenant: B, service: 'api', timestamp: ns(END - HOUR), trace_id: 't2', span_id: 's2', ...position() },
  ]);
  await insert('deployments', [
    { tenant: A, service: 'api', timestamp: END - 5 * HOUR - 10 * MIN, version: 'v2', status: 'succeeded', metadata: {}, ...position() },
    { tenant: A, service: 'api', timestamp: END - 48 * HOUR, version: 'v1', status: 'succeeded', metadata: {}, ...position() },
  ]);
  // Alerts: a1 received at −3 h, then the same alert again at −2 h (one row under FINAL, received −2 h); a2 at −1 h.
  const alert = (tenant: string, id: string, received: number) => ({
    alert_id: id,
    tenant,
    service: 'api',
    source: 'alertmanager',
    alert_name: 'HighLatency',
    status: 'firing',
    severity: 'warning',
    fingerprint: id,
    labels: {},
    annotations: {},
    starts_at: END - 3 * HOUR,
    received_at: received,
  });
  await insert('alerts', [alert(A, 'a1', END - 3 * HOUR), alert(A, 'a1', END - 2 * HOUR), alert(A, 'a2', END - HOUR), alert(B, 'b1', END - HOUR)]);
  await insert('agent_calls', [
    { tenant: A, agent: 'bot', model: 'm', started_at: END - HOUR, event_id: 'e1', duration_ms: 5, status: 'ok', ...position() },
    { tenant: B, agent: 'bot', model: 'm', started_at: END - HOUR, event_id: 'e2', duration_ms: 5, status: 'ok', ...position() },
  ]);

  // Incidents, versioned (FINAL keeps the latest version of each):
  // i1 opened −5 h (high), resolved −4 h in version 2: time to resolve 1 h = 3600 s.
  // i2 opened −3 h (critical), open.
  // i3 opened −30 h (before the window, medium), resolved −2 h: 28 h = 100800 s.
  // i4 opened −26 h, open. i5 is B's.
  const incident = (tenant: string, id: string, version: number, opened: number, severity: string, resolved: number | null) => ({
    incident_id: id,
    tenant,
    service: 'api',
    version,
    status: resolved === null ? 'open' : 'resolved',
    severity,
    opened_at: opened,
    updated_at: resolved ?? opened,
    resolved_at: resolved,
    signals: '[]',
    signal_count: 2,
  });
  await insert('incidents', [
    incident(A, 'i1', 1, END - 5 * HOUR, 'high', null),
    incident(A, 'i1', 2, END - 5 * HOUR, 'high', END - 4 * HOUR),
    incident(A, 'i2', 1, END - 3 * HOUR, 'critical', null),
    incident(A, 'i3', 1, END - 30 * HOUR, 'medium', null),
    incident(A, 'i3', 2, END - 30 * HOUR, 'medium', END - 2 * HOUR),
    incident(A, 'i4', 1, END - 26 * HOUR, 'medium', null),
    incident(B, 'i5', 1, END - HOUR, 'high', END - 30 * MIN),
  ]);

  // Analyses: i1 by rules 30 s after opening, then by the model at −4 h 30 min; i2 by the model 45 s after opening.
  const analysis = (tenant: string, id: string, incidentId: string, source: string, at: number) => ({
    analysis_id: id,
    incident_id: incidentId,
    tenant,
    service: 'api',
    source,
    prompt_name: 'root-cause',
    prompt_version: 1,
    duration_ms: 100,
    created_at: at,
    root_cause: 'x',
    root_cause_confidence: 0.5,
    root_cause_reasoning: 'x',
    recommended_actions: '[]',
    severity: 'high',
    estimated_customer_impact: 'x',
    incident_opened_at: END,
  });
  await insert('analyses', [
    analysis(A, 'an1', 'i1', 'rules', END - 5 * HOUR + 30_000),
    analysis(A, 'an2', 'i1', 'llm', END - 4 * HOUR - 30 * MIN),
    analysis(A, 'an3', 'i2', 'llm', END - 3 * HOUR + 45_000),
    analysis(B, 'an4', 'i5', 'llm', END - HOUR + 1000),
  ]);

  // Deliveries: i1 failed at +60 s, delivered at +120 s (the acknowledgement) and +300 s (a second target);
  // i2 failed at +30 s and was suppressed at +40 s (never acknowledged); a rule alert delivered at −1 h;
  // the +120 s row written twice. In the window: 6 rows, delivered 3, failed 2, suppressed 1.
  const delivery = (tenant: string, id: string, reason: string, subject: string, outcome: string, at: number) => ({
    delivery_id: id,
    tenant,
    service: 'api',
    target_id: `target-${id}`,
    target_kind: 'webhook',
    reason,
    subject_id: subject,
    outcome,
    attempts: 1,
    duration_ms: 10,
    at,
  });
  await insert('notification_deliveries', [
    delivery(A, 'd1', 'incident', 'i1', 'failed', END - 5 * HOUR + 60_000),
    delivery(A, 'd2', 'incident', 'i1', 'delivered', END - 5 * HOUR + 120_000),
    delivery(A, 'd2', 'incident', 'i1', 'delivered', END - 5 * HOUR + 120_000),
    delivery(A, 'd3', 'incident', 'i1', 'delivered', END - 5 * HOUR + 300_000),
    delivery(A, 'd4', 'incident', 'i2', 'failed', END - 3 * HOUR + 30_000),
    delivery(A, 'd5', 'incident', 'i2', 'suppressed', END - 3 * HOUR + 40_000),
    delivery(A, 'd6', 'alert_firing:HighLatency', 'a1', 'delivered', END - HOUR),
    delivery(B, 'd7', 'incident', 'i5', 'delivered', END - HOUR + 5000),
  ]);

  // Feedback in the window: helpful at −4 h, not helpful at −3 h, helpful at −1 h (2 of 3); one helpful at −25 h, outside.
  const feedback = (tenant: string, id: string, helpful: boolean, at: number) => ({
    feedback_id: id,
    tenant,
    incident_id: 'i1',
    helpful,
    comment: null,
    created_at: at,
  });
  await insert('incident_feedback', [
    feedback(A, 'f1', true, END - 4 * HOUR),
    feedback(A, 'f2', false, END - 3 * HOUR),
    feedback(A, 'f3', true, END - HOUR),
    feedback(A, 'f4', true, END - 25 * HOUR),
    feedback(B, 'f5', false, END - HOUR),
  ]);

  // The assistant's answers (role assistant), with the questions before them (role user, never counted):
  //   m1 session s1, llm, 1000 ms, 3 tool calls, 500 in / 100 out tokens, at −6 h (written twice)
  //   m2 session s1, rules, 200 ms, 2 tool calls, no tokens, at −5 h
  //   m3 session s2, llm, 3000 ms, 5 tool calls, 1500 in / 300 out, at −1 h
  //   m4 session s2, needs_model, 50 ms, nothing else, at −30 min
  // Outside: an answer at −25 h; B's answer.
  const message = (
    tenant: string,
    session: string,
    seq: number,
    role: string,
    source: string,
    ms: number,
    tools: number,
    tin: number,
    tout: number,
    at: number,
  ) => ({
    tenant,
    session_id: session,
    message_id: `${session}-${seq}`,
    seq,
    role,
    content: 'x',
    answer: role === 'user' ? '' : '{}',
    trace: '[]',
    source: role === 'user' ? '' : source,
    model: 'llama3.1',
    tool_calls: tools,
    input_tokens: tin,
    output_tokens: tout,
    duration_ms: ms,
    created_at: at,
  });
  await insert('assistant_messages', [
    message(A, 's1', 0, 'user', '', 0, 0, 0, 0, END - 6 * HOUR - 1000),
    message(A, 's1', 1, 'assistant', 'llm', 1000, 3, 500, 100, END - 6 * HOUR),
    message(A, 's1', 1, 'assistant', 'llm', 1000, 3, 500, 100, END - 6 * HOUR),
    message(A, 's1', 2, 'user', '', 0, 0, 0, 0, END - 5 * HOUR - 1000),
    message(A, 's1', 3, 'assistant', 'rules', 200, 2, 0, 0, END - 5 * HOUR),
    message(A, 's2', 0, 'user', '', 0, 0, 0, 0, END - HOUR - 1000),
    message(A, 's2', 1, 'assistant', 'llm', 3000, 5, 1500, 300, END - HOUR),
    message(A, 's2', 2, 'assistant', 'needs_model', 50, 0, 0, 0, END - 30 * MIN),
    message(A, 's0', 1, 'assistant', 'llm', 9000, 9, 9, 9, END - 25 * HOUR),
    message(B, 's9', 1, 'assistant', 'llm', 9000, 9, 9, 9, END - HOUR),
  ]);
});
afterAll(async () => ch?.close());

describe('StatisticsStore.overview', () => {
  it('counts, rates, means and percentiles over the window, for the tenant alone', async () => {
    const o = await store.overview(A, START, END);
    expect(o.ingest.rows).toEqual({
      metric_samples: 5, // −90, −80, −30 (once), −30 /b, −20
      log_lines: 2, // 'boom' once, 'bang'
      spans: 1,
      deployments: 1,
      alerts: 2, // a1 (once), a2
      agent_calls: 1,
    });
    expect(o.ingest.rows_per_second.metric_samples).toBeCloseTo(5 / DAY_S, 12);
    expect(o.ingest.by_protocol).toEqual({
      records: { json: 75, remote_write: 100 }, // 30 + 20 + 10 + 15; 40 + 60
      records_per_second: { json: 75 / DAY_S, remote_write: 100 / DAY_S },
    });
    expect(o.series).toEqual({ active: 2 }); // /a and /b
    expect(o.incidents).toEqual({
      open: 2, // i2, i4 (i1 and i3 are resolved in their latest version)
      opened: 2, // i1, i2
      resolved: 2, // i1, i3
      mtta_s: 120, // i1 only: first delivered at +120 s (the failure at +60 s is no acknowledgement)
      acknowledged: 1,
      mttr_s: 52_200, // (3600 + 100800) / 2
      time_to_analysis_s: 37.5, // (30 + 45) / 2
      analysed: 2,
    });
    expect(o.analyses).toEqual({ total: 3, by_source: { llm: 2, rules: 1 } });
    expect(o.feedback).toEqual({ count: 3, helpful: 2, helpful_rate: 2 / 3 });
    expect(o.notifications).toEqual({ total: 6, by_outcome: { delivered: 3, failed: 2, suppressed: 1 } });
    expect(o.assistant).toEqual({
      answers: 4,
      sessions: 2,
      by_source: { llm: 2, needs_model: 1, rules: 1 },
      latency_ms: {
        mean: 1062.5, // (1000 + 200 + 3000 + 50) / 4
        // Sorted 50, 200, 1000, 3000; rank p·(n − 1) interpolated: p50 at 1.5 → 200 + 0.5·800 = 600;
        // p95 at 2.85 → 1000 + 0.85·2000 = 2700; p99 at 2.97 → 1000 + 0.97·2000 = 2940.
        p50: 600,
        p95: expect.closeTo(2700, 6),
        p99: expect.closeTo(2940, 6),
      },
      tool_calls: 10, // 3 + 2 + 5 + 0
      input_tokens: 2000, // 500 + 1500
      output_tokens: 400, // 100 + 300
    });
  });

  it('an empty window: zeros, null means and rates, no percentiles', async () => {
    const o = await store.overview(A, END + HOUR, END + 2 * HOUR);
    expect(o.ingest.rows.metric_samples).toBe(0);
    expect(o.ingest.by_protocol).toEqual({ records: {}, records_per_second: {} });
    expect(o.incidents).toMatchObject({ opened: 0, resolved: 0, mtta_s: null, acknowledged: 0, mttr_s: null, time_to_analysis_s: null });
    expect(o.feedback).toEqual({ count: 0, helpful: 0, helpful_rate: null });
    expect(o.assistant.latency_ms).toBeNull();
    expect(o.assistant.answers).toBe(0);
  });

  it('without self-monitoring, no protocol breakdown (nothing else records the protocol)', async () => {
    const o = await new StatisticsStore(ch).overview(A, START, END);
    expect(o.ingest.by_protocol).toBeNull();
    expect(new StatisticsStore(ch).has('ingest_protocols')).toBe(false);
  });

  it('another tenant sees only its own rows', async () => {
    const o = await store.overview(B, START, END);
    expect(o.ingest.rows).toMatchObject({ metric_samples: 1, log_lines: 1, spans: 1, alerts: 1, agent_calls: 1, deployments: 0 });
    // Its one counter sample (500 at −90 min) is the series' first: a labelled child appears at its first
    // increment, so a series first seen inside the window counts whole.
    expect(o.ingest.by_protocol?.records).toEqual({ json: 500 });
    expect(o.incidents).toMatchObject({ open: 0, opened: 1, resolved: 1, mttr_s: 1800, mtta_s: 5, time_to_analysis_s: 1 });
    expect(o.assistant).toMatchObject({ answers: 1, sessions: 1, tool_calls: 9 });
  });
});

describe('StatisticsStore.trend', () => {
  const span = { start: START, end: END, step: HOUR };
  const at = (points: Point[], k: number) => points[k]!;

  it('one point per bucket, empty ones included, summing to the overview', async () => {
    const rows = await store.trend(A, 'ingest_rows', span);
    expect(rows).toHaveLength(24);
    expect(rows.map((p) => p.start)).toEqual(Array.from({ length: 24 }, (_, k) => START + k * HOUR));
    // Samples: −90 and −80 min in bucket 22; −30 (once), −30 /b and −20 min in bucket 23.
    expect(at(rows, 22).groups).toMatchObject({ metric_samples: 2, log_lines: 1, alerts: 1 }); // 'boom' and a1 at −2 h
    expect(at(rows, 23).groups).toMatchObject({ metric_samples: 3, log_lines: 1, spans: 1, alerts: 1, agent_calls: 1 });
    expect(at(rows, 0)).toEqual({
      start: START,
      value: 0,
      groups: { agent_calls: 0, alerts: 0, deployments: 0, log_lines: 0, metric_samples: 0, spans: 0 },
    });
    expect(rows.reduce((s, p) => s + (p.value ?? 0), 0)).toBe(12); // 5 + 2 + 1 + 1 + 2 + 1, the overview's rows
  });

  it('per protocol: each increase in the bucket of the sample that shows it', async () => {
    const points = await store.trend(A, 'ingest_protocols', span);
    expect(at(points, 1).groups).toEqual({ json: 30, remote_write: 0 }); // −23 h is bucket 1
    expect(at(points, 22).groups).toEqual({ json: 20, remote_write: 0 });
    expect(at(points, 23).groups).toEqual({ json: 25, remote_write: 100 }); // 10 + 15; 40 + 60
    expect(points.reduce((s, p) => s + (p.value ?? 0), 0)).toBe(175);
  });

  it('means and shares per bucket, null where there is nothing to average', async () => {
    const mttr = await store.trend(A, 'mttr', span);
    expect(at(mttr, 20)).toEqual({ start: START + 20 * HOUR, value: 3600, count: 1 }); // i1 resolved −4 h
    expect(at(mttr, 22)).toEqual({ start: START + 22 * HOUR, value: 100_800, count: 1 }); // i3 resolved −2 h
    expect(at(mttr, 21)).toEqual({ start: START + 21 * HOUR, value: null, count: 0 });
    expect((await store.trend(A, 'mtta', span))[19]).toMatchObject({ value: 120, count: 1 }); // i1 opened −5 h
    const helpful = await store.trend(A, 'helpful_rate', span);
    expect([20, 21, 23].map((k) => at(helpful, k).value)).toEqual([1, 0, 1]);
    expect(at(helpful, 21).groups).toEqual({ helpful: 0, not_helpful: 1 });
    // Bucket 23 holds m3 (3000 ms, −1 h) and m4 (50 ms, −30 min): p95 at rank 0.95 → 50 + 0.95·2950 = 2852.5.
    const p95 = await store.trend(A, 'assistant_p95_ms', span);
    expect(at(p95, 23).value).toBeCloseTo(2852.5, 6);
    expect(at(p95, 23).count).toBe(2);
    expect(at(p95, 18)).toMatchObject({ value: 1000, count: 1 }); // m1 alone, −6 h
  });

  it('every metric answers, and a trend sums to the overview figure', async () => {
    for (const metric of TREND_METRICS) expect(await store.trend(A, metric, span), metric).toHaveLength(24);
    const total = async (metric: (typeof TREND_METRICS)[number]) => (await store.trend(A, metric, span)).reduce((s, p) => s + (p.value ?? 0), 0);
    expect(await total('incidents_opened')).toBe(2);
    expect(await total('incidents_resolved')).toBe(2);
    expect(await total('analyses')).toBe(3);
    expect(await total('notifications')).toBe(6);
    expect(await total('assistant_calls')).toBe(4);
    expect(await total('assistant_tool_calls')).toBe(10);
    expect(await total('assistant_tokens')).toBe(2400);
  });

  it('a span not aligned to the step: buckets from its start, the last one partial', async () => {
    const points = await store.trend(A, 'ingest_rows', { start: END - 100 * MIN, end: END, step: HOUR });
    // Buckets [−100, −40) and [−40, 0) min: samples −90, −80 in the first; −30, −30 /b, −20 in the second.
    expect(points.map((p) => p.groups?.metric_samples)).toEqual([2, 3]);
  });
});
