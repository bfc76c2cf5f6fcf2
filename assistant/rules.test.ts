import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '../sql/client.ts';
import {
  HOUR,
  insertAnalyses,
  insertAnomalies,
  insertDeployments,
  insertIncidents,
  insertLogs,
  insertRollups,
  insertStatusChanges,
  MIN,
  openClickHouse,
  toolContext,
} from '../test/helpers/assistant-data.ts';
import { assistantAnswer } from './answer.ts';
import { answerWithRules, type Intent, knownServices, type RunTool, recognise } from './rules.ts';
import { toolRunner } from './runner.ts';
import type { ToolContext } from './tool.ts';
import { toolsFor } from './tools/index.ts';

/**
 * The answers without a model. recognise() on its own; answerWithRules on
 * the embedded ClickHouse with a scenario: checkout deployed v2.4.0, its
 * latency rose minutes later, the detector and the correlator raised an
 * anomaly and an incident naming the deployment, and the analyst explained
 * it. Tenant globex has the same story with other names (v6.6.6,
 * inc-globex): an answer for acme that mentions them has read globex's data.
 */
describe('recognise', () => {
  const services = ['checkout', 'payments', 'payments-api', 'search'];
  const cases: [string, Intent | null][] = [
    ['What is wrong with checkout?', { kind: 'service_health', service: 'checkout', since: null }],
    ["what's wrong with Payments-API", { kind: 'service_health', service: 'payments-api', since: null }],
    ['WHY is checkout slow since 14:00?!', { kind: 'service_health', service: 'checkout', since: '14:00' }],
    ['why are payments failing in the last 3 hours', { kind: 'service_health', service: 'payments', since: '3h' }],
    ['Why is search erroring since 2pm', { kind: 'service_health', service: 'search', since: '14:00' }],
    ['checkout status', { kind: 'service_health', service: 'checkout', since: null }],
    ['How is search doing today?', { kind: 'service_health', service: 'search', since: 'today' }],
    ["what's wrong?", { kind: 'service_health', service: null, since: null }],
    ['What is going on right now', { kind: 'service_health', service: null, since: null }],
    ['what changed in payments today', { kind: 'what_changed', service: 'payments', since: 'today' }],
    ['What changed?', { kind: 'what_changed', service: null, since: null }],
    ['what has changed since 9:05', { kind: 'what_changed', service: null, since: '09:05' }],
    ['Any changes to checkout in the past 30 minutes?', { kind: 'what_changed', service: 'checkout', since: '30m' }],
    ['what changed in the last hour', { kind: 'what_changed', service: null, since: '1h' }],
    ['what was deployed yesterday', { kind: 'what_changed', service: null, since: 'yesterday' }],
    ['list open incidents', { kind: 'open_incidents', service: null }],
    ['Show me the open incidents on checkout.', { kind: 'open_incidents', service: 'checkout' }],
    ['what incidents are open?', { kind: 'open_incidents', service: null }],
    ['Which incidents are still open', { kind: 'open_incidents', service: null }],
    ['any active incidents', { kind: 'open_incidents', service: null }],
    // Not recognised: the model's job (or a clear "needs the model").
    ['tell me a joke', null],
    ['what is wrong with billing', null], // not a known service: no guessing from grammar
    ['why is the sky blue', null],
    ['compare the p99 of checkout and search last week', null],
    ['how do I create an alert rule?', null],
    ['', null],
    ['?!', null],
  ];
  for (const [question, intent] of cases) {
    it(`${JSON.stringify(question)} → ${intent ? JSON.stringify(intent) : 'null'}`, () => {
      expect(recognise(question, services)).toEqual(intent);
    });
  }

  it('with no known services, service questions are left to the model', () => {
    expect(recognise('what is wrong with checkout', [])).toBeNull();
    expect(recognise('list open incidents', [])).toEqual({ kind: 'open_incidents', service: null });
  });
});

describe('answerWithRules on a deployment that slowed checkout', () => {
  let ch: ClickHouseClient;
  const NOW = Math.floor(Date.now() / MIN) * MIN;
  const A = 'acme';
  const B = 'globex';
  const LATENCY = 'http_request_duration_ms';

  async function story(tenant: string, names: { version: string; incident: string; previous: string }) {
    const windows = (from: number, to: number, values: number[]) => Array.from({ length: from - to }, (_, i) => ({ start: NOW - (from - i) * MIN, values }));
    await insertRollups(ch, tenant, 'checkout', LATENCY, [...windows(240, 35, [95, 100, 105]), ...windows(35, 0, [380, 400, 420])]);
    await insertRollups(ch, tenant, 'payments', LATENCY, windows(240, 0, [50, 52]));
    await insertRollups(ch, tenant, 'search', LATENCY, windows(240, 0, [20, 22]));
    await insertDeployments(ch, tenant, [
      { service: 'checkout', version: names.version, at: NOW - 40 * MIN },
      { service: 'checkout', version: names.previous, at: NOW - 5 * HOUR },
      { service: 'payments', version: 'v1.2.0', at: NOW - 3 * HOUR },
    ]);
    await insertAnomalies(ch, tenant, [
      { id: `${names.incident}-a1`, service: 'checkout', metric: LATENCY, at: NOW - 33 * MIN, severity: 'critical', value: 400, baseline: 100, z: 15 },
      { id: `${names.incident}-a2`, service: 'checkout', metric: LATENCY, at: NOW - 30 * MIN, severity: 'high', value: 410, baseline: 100, z: 9 },
    ]);
    await insertIncidents(ch, tenant, [
      {
        id: names.incident,
        service: 'checkout',
        status: 'open',
        severity: 'critical',
        opened_at: NOW - 33 * MIN,
        signals: [
          { id: 'dep', kind: 'deployment', at: NOW - 40 * MIN, summary: `checkout ${names.version}`, severity: null },
          { id: `${names.incident}-a1`, kind: 'anomaly', at: NOW - 33 * MIN, summary: 'latency', severity: 'critical' },
        ],
        suspect: { id: 'dep', version: names.version, minutes_before: 7 },
      },
    ]);
    await insertAnalyses(ch, tenant, [
      {
        id: `${names.incident}-an`,
        incident: names.incident,
        service: 'checkout',
        at: NOW - 25 * MIN,
        source: 'llm',
        root_cause: `Deployment ${names.version} slowed checkout's payment calls`,
        confidence: 0.8,
        actions: [{ action: `Roll back checkout to ${names.previous}`, reasoning: 'the rise began right after it', risk: 'low', priority: 1 }],
      },
    ]);
    await insertLogs(
      ch,
      tenant,
      Array.from({ length: 4 }, (_, i) => ({ service: 'checkout', level: 'error', at: NOW - (30 - i) * MIN, message: 'payment call timed out after 3000 ms' })),
    );
    await insertStatusChanges(ch, tenant, [
      { provider: 'Stripe', subject: 'API', service: 'payments', at: NOW - 20 * MIN, to: 'degraded_performance', degraded: true, impact: 'minor' },
    ]);
  }

  beforeAll(async () => {
    ch = await openClickHouse('assistant-rules');
    await story(A, { version: 'v2.4.0', incident: 'inc-acme', previous: 'v2.3.9' });
    await story(B, { version: 'v6.6.6', incident: 'inc-globex', previous: 'v6.6.5' });
  });
  afterAll(async () => ch?.close());

  /** A runner as the lead's does it (schema first, a failure is a value), keeping each call and the evidence the tools returned. */
  function runner(ctx: ToolContext, fail: string[] = []) {
    const calls: { name: string; args: Record<string, unknown> }[] = [];
    const evidence = new Set<string>();
    const tools = new Map(toolsFor(ctx).map((t) => [t.name, t]));
    const run: RunTool = async (name, args) => {
      calls.push({ name, args });
      const tool = tools.get(name);
      if (!tool) return { ok: false, error: `no tool ${name}` };
      if (fail.includes(name)) return { ok: false, error: 'could not read from ClickHouse: connection refused' };
      const parsed = tool.args.safeParse(args);
      if (!parsed.success) return { ok: false, error: `invalid arguments for ${name}: ${parsed.error.message}` };
      try {
        const r = await tool.run(parsed.data, ctx);
        for (const e of r.evidence) evidence.add(e.ref);
        return { ok: true, data: r.data };
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
    };
    return { run, calls, evidence };
  }

  async function ask(question: string, o: { tenant?: string; fail?: string[] } = {}) {
    const ctx = toolContext(ch, o.tenant ?? A, NOW);
    const intent = recognise(question, await knownServices(ctx));
    expect(intent, question).not.toBeNull();
    const r = runner(ctx, o.fail);
    const answer = await answerWithRules(intent!, ctx, r.run);
    expect(assistantAnswer.safeParse(answer).success).toBe(true);
    const cited = answer.findings.flatMap((f) => f.evidence);
    // Every ref a finding cites was returned by a tool in this answer: nothing made up.
    for (const ref of cited) expect(r.evidence, ref).toContain(ref);
    const text = JSON.stringify(answer);
    // How it would fail: a tool reading every tenant, or a finding made from another tenant's rows.
    expect(text).not.toMatch(/v6\.6\.|inc-globex/);
    return { answer, cited, calls: r.calls, text };
  }

  it('"what is wrong with checkout": the incident, the deployment and the latency series, the deployment as the likely cause', async () => {
    const { answer, cited, calls } = await ask('What is wrong with checkout?');
    expect(cited).toEqual(expect.arrayContaining(['incident:inc-acme', 'deployment:checkout:v2.4.0', `series:checkout:${LATENCY}`, 'logs:checkout:error']));
    expect(cited.some((r) => r.startsWith('anomaly:inc-acme-a'))).toBe(true);
    expect(answer.summary).toMatch(/^checkout since \d\d:\d\d UTC: 1 open incident \(critical\); p95 of http_request_duration_ms up \d+%/);
    expect(answer.summary).toContain('Likely cause: deployment v2.4.0');
    expect(answer.findings[0]!.statement).toContain("Latest analysis (llm, 80%): Deployment v2.4.0 slowed checkout's payment calls");
    expect(answer.next_steps[0]).toBe('Roll back checkout to v2.3.9');
    expect(answer.confidence).toBeGreaterThanOrEqual(80);
    // Within the default budget of tool calls, and every call scoped to checkout.
    expect(calls.length).toBeLessThanOrEqual(8);
    expect(calls.filter((c) => c.name !== 'incident').every((c) => c.args.service === 'checkout')).toBe(true);
  });

  it('"why is checkout slow since <time>": the range starts at that time', async () => {
    const at = new Date(NOW - 50 * MIN).toISOString().slice(11, 16);
    const { answer, calls } = await ask(`why is checkout slow since ${at}?`);
    expect(answer.summary).toMatch(new RegExp(`^checkout since ${at} UTC`));
    expect(calls.find((c) => c.name === 'anomalies')!.args.since).toBe(new Date(NOW - 50 * MIN).toISOString());
  });

  it('a degraded dependency is named; a healthy service gets "nothing wrong found", with a low confidence', async () => {
    const { answer } = await ask('payments status');
    expect(answer.summary).toMatch(/^payments since \d\d:\d\d UTC: Stripe API degraded_performance\. A third-party dependency is degraded: Stripe API\.$/);
    expect(answer.findings.find((f) => f.evidence.includes('status:Stripe:API'))!.statement).toMatch(/^Stripe API is degraded_performance \(impact minor\)/);
    const quiet = await ask('how is search doing?');
    expect(quiet.answer.summary).toMatch(
      /^Nothing wrong found with search since \d\d:\d\d UTC: no incidents, anomalies, latency rise or error logs, and no degraded third-party dependency\.$/,
    );
    expect(quiet.answer.findings).toEqual([]);
    expect(quiet.answer.confidence).toBeLessThan(50);
  });

  it('"what changed in checkout in the last 2 hours": the deployment and the incident it led to, not older ones', async () => {
    const { answer, cited } = await ask('what changed in checkout in the last 2 hours');
    expect(cited).toEqual(expect.arrayContaining(['deployment:checkout:v2.4.0', 'incident:inc-acme', `series:checkout:${LATENCY}`]));
    expect(cited).not.toContain('deployment:checkout:v2.3.9');
    expect(answer.summary).toMatch(
      /^Since \d\d:\d\d UTC in checkout: 1 deployment \(v2\.4\.0\); 1 incident opened; p95 of http_request_duration_ms up \d+%\.$/,
    );
  });

  it('"what changed" across services names each deployment with its service', async () => {
    const { cited, answer } = await ask('what changed in the last 4 hours?');
    expect(cited).toEqual(expect.arrayContaining(['deployment:checkout:v2.4.0', 'deployment:payments:v1.2.0', 'status:Stripe:API']));
    expect(answer.summary).toContain('2 deployments (checkout v2.4.0, payments v1.2.0)');
  });

  it('"list open incidents": each with its suspect and analysis', async () => {
    const { answer, cited } = await ask('List open incidents');
    expect(answer.summary).toMatch(/^1 open incident: checkout \(critical, since \d\d:\d\d UTC, suspect v2\.4\.0\)\.$/);
    expect(cited).toEqual(['incident:inc-acme', 'deployment:checkout:v2.4.0']);
    expect(answer.confidence).toBe(90);
  });

  it('"what is wrong?" with no service: the tenant as a whole', async () => {
    const { cited, answer } = await ask("what's wrong?");
    expect(cited).toEqual(expect.arrayContaining(['incident:inc-acme', `series:checkout:${LATENCY}`]));
    expect(answer.summary).toMatch(/^your services since .*1 open incident \(checkout critical\)/);
  });

  it('a tool that fails: the answer still comes, says what could not be read, and is less sure', async () => {
    const full = await ask('what is wrong with checkout');
    const { answer } = await ask('what is wrong with checkout', { fail: ['anomalies', 'top_services'] });
    expect(answer.summary).toContain('Some data could not be read (anomalies, top_services, top_services)');
    expect(answer.confidence).toBeLessThan(full.answer.confidence);
    expect(answer.findings.flatMap((f) => f.evidence)).toEqual(expect.arrayContaining(['incident:inc-acme', 'deployment:checkout:v2.4.0']));
  });

  it("through the assistant's own runner, within its default budgets (8 tool calls, 64 KiB of results), every call succeeds", async () => {
    const ctx = toolContext(ch, A, NOW);
    for (const question of ['what is wrong with checkout', 'what changed in the last 4 hours', "what's wrong?", 'list open incidents']) {
      // One runner per message, as the assistant makes them.
      const runner = toolRunner(toolsFor(ctx), ctx, { maxToolCalls: 8, maxBytes: 64 * 1024 });
      const intent = recognise(question, await knownServices(ctx))!;
      const answer = await answerWithRules(intent, ctx, (name, args) => runner.run(name, args));
      expect(runner.trace.filter((s) => s.kind === 'tool' && !s.ok)).toEqual([]);
      for (const ref of answer.findings.flatMap((f) => f.evidence)) expect(runner.evidence.has(ref), ref).toBe(true);
    }
  });

  it('globex asking gets globex: the same story under its own names', async () => {
    const ctx = toolContext(ch, B, NOW);
    const r = runner(ctx);
    const answer = await answerWithRules({ kind: 'open_incidents', service: null }, ctx, r.run);
    expect(answer.findings.flatMap((f) => f.evidence)).toEqual(['incident:inc-globex', 'deployment:checkout:v6.6.6']);
  });
});
