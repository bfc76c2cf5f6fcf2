import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { eventually, listen, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { startOllamaStandIn, type OllamaStandIn } from './helpers/ollama-stand-in.ts';
import { gaussian, seededRandom } from './helpers/random.ts';

/**
 * The ops assistant on the real pipeline: a deployment that slowed checkout
 * (tenant a) and one that slowed payments (tenant b) go through the gateway,
 * the rollups, the detector and the correlator into incidents; then tenant a
 * asks. The model is the Ollama stand-in, scripted with the tool calls a
 * model would plan, so what is tested is everything around it: the tools
 * really run against ClickHouse, scoped to the asking tenant, their results
 * go back to the model, and the answer's evidence is checked against what
 * the tools returned.
 */
const BIN = path.resolve(import.meta.dirname, '../bin/autopilot.js');
let p: TestPipeline;
let ollama: OllamaStandIn;
const MIN = 60_000;
const T = Date.now() - 5 * MIN;
const incidentOf: Record<'a' | 'b', string> = { a: '', b: '' };

async function playScenario(key: string, service: string, at: number, version: string) {
  const r = seededRandom(service.length);
  const point = (t: number, value: number) => ({ timestamp: t, metric_name: 'http_request_duration_ms', value, labels: { service, environment: 'prod' } });
  const steady = Array.from({ length: 180 }, (_, i) => point(at - 30 * MIN + i * 10_000, 100 + 5 * gaussian(r)));
  expect((await p.post('/v1/metrics', steady, key)).status).toBe(202);
  expect((await p.post('/v1/deployments', { timestamp: at, service, version, status: 'succeeded', metadata: { commit: 'abc123' } }, key)).status).toBe(202);
  const slow = Array.from({ length: 12 }, (_, i) => point(at + (i + 1) * 10_000, 1500 + 50 * gaussian(r)));
  expect((await p.post('/v1/metrics', slow, key)).status).toBe(202);
}

beforeAll(async () => {
  ollama = await startOllamaStandIn();
  p = await startTestPipeline('assistant', {
    processors: ['sink', 'rollup', 'detect', 'correlate'],
    env: { OLLAMA_HOST: ollama.url, ASSISTANT_MODEL: 'stand-in:latest', ASSISTANT_TIMEOUT_MS: '20000' },
  });
  await playScenario(p.keys.a, 'checkout', T, 'v2.4.0');
  await playScenario(p.keys.b, 'payments', T + 7000, 'v9.1.3');
  for (const side of ['a', 'b'] as const) {
    const [incident] = await eventually(
      () => p.rows<{ incident_id: string }>('SELECT incident_id FROM incidents FINAL WHERE tenant = {t:String}', { t: p.tenants[side] }),
      (r) => r.length > 0,
      90_000,
    );
    incidentOf[side] = incident!.incident_id;
  }
  await eventually(
    () => p.rows<{ n: string }>("SELECT count() AS n FROM metric_rollups FINAL WHERE tenant = {t:String} AND service = 'checkout'", { t: p.tenants.a }),
    (r) => Number(r[0]?.n) >= 30,
    60_000,
  );
}, 240_000);

afterAll(async () => {
  await p?.stop();
  await ollama?.close();
});

const call = async (method: string, path: string, body?: unknown, key = p.keys.a) => {
  const res = await p.app.request(path, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Record<string, any> };
};
const newSession = async (key = p.keys.a) => (await call('POST', '/v1/assistant/sessions', { title: 'on call' }, key)).body.session_id as string;
const askIn = (session: string, question: string, key = p.keys.a) => call('POST', `/v1/assistant/sessions/${session}/messages`, { question }, key);
const answer = (findings: { statement: string; evidence: string[] }[], summary = 'checkout got slow after a deployment') => ({
  kind: 'answer' as const,
  body: { summary, findings, next_steps: ['roll back'], confidence: 80 },
});
/** What the stand-in was sent as tool results in its latest request. */
const toolResultsSent = () =>
  ((ollama.asked().at(-1)!.body!.messages as { role: string; content: string }[]) ?? [])
    .filter((m) => m.role === 'tool')
    .map((m) => m.content)
    .join('\n');

describe('the ops assistant', () => {
  let session: string;

  it('answers "why is checkout slow?" from tool results: its findings cite the incident, the deployment and the latency series', {
    timeout: 60_000,
  }, async () => {
    session = await newSession();
    const incidentRef = `incident:${incidentOf.a}`;
    ollama.reset();
    ollama.script(
      { kind: 'tool_calls', calls: [{ name: 'incidents', arguments: { service: 'checkout', status: 'open' } }] },
      { kind: 'tool_calls', calls: [{ name: 'incident', arguments: { id: incidentOf.a } }] },
      { kind: 'tool_calls', calls: [{ name: 'metric_series', arguments: { service: 'checkout', metric: 'http_request_duration_ms', since: '1h' } }] },
      answer([
        { statement: 'An incident is open on checkout', evidence: [incidentRef] },
        { statement: 'v2.4.0 was deployed just before latency rose', evidence: ['deployment:checkout:v2.4.0'] },
        { statement: 'p95 latency went from about 100 ms to about 1.5 s', evidence: ['series:checkout:http_request_duration_ms'] },
      ]),
    );
    const res = await askIn(session, 'Why is checkout slow?');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ source: 'llm', model: 'stand-in:latest', fallback_reason: null, tool_calls: 3 });
    // Every cited ref was returned by a tool, so each resolves to its label; none is unsupported.
    expect(res.body.findings.map((f: any) => f.evidence.map((e: any) => e.ref))).toEqual([
      [incidentRef],
      ['deployment:checkout:v2.4.0'],
      ['series:checkout:http_request_duration_ms'],
    ]);
    expect(res.body.findings.every((f: any) => f.unsupported.length === 0)).toBe(true);
    const tools = res.body.trace.filter((s: any) => s.kind === 'tool');
    expect(tools.map((s: any) => [s.tool, s.ok])).toEqual([
      ['incidents', true],
      ['incident', true],
      ['metric_series', true],
    ]);
    expect(tools.every((s: any) => s.rows > 0)).toBe(true);
    // The model was given the real data: the incident's suspect deployment and the slow percentiles.
    const sent = toolResultsSent();
    expect(sent).toContain('v2.4.0');
    expect(sent).toContain(incidentOf.a);
    // Tools are offered to the model with their argument schemas.
    const offered = (ollama.asked()[0]!.body!.tools as { function: { name: string } }[]).map((t) => t.function.name);
    expect(offered).toEqual(
      expect.arrayContaining(['incidents', 'incident', 'metric_series', 'deployments', 'logs', 'anomalies', 'alerts', 'external_status']),
    );
    expect(offered).not.toContain('github_activity'); // not configured
  });

  it('keeps the session: the second question goes to the model with the first turn, and is stored in order', { timeout: 60_000 }, async () => {
    ollama.reset();
    ollama.script(
      { kind: 'tool_calls', calls: [{ name: 'deployments', arguments: { service: 'checkout', since: '24h' } }] },
      answer([{ statement: 'checkout v2.4.0 was deployed', evidence: ['deployment:checkout:v2.4.0'] }], 'one deployment of checkout today'),
    );
    const res = await askIn(session, 'What changed in checkout today?');
    expect(res.body.findings[0].evidence[0].ref).toBe('deployment:checkout:v2.4.0');
    const messages = ollama.asked()[0]!.body!.messages as { role: string; content: string }[];
    expect(messages.map((m) => m.content)).toEqual(
      expect.arrayContaining(['Why is checkout slow?', 'checkout got slow after a deployment', 'What changed in checkout today?']),
    );
    const stored = (await call('GET', `/v1/assistant/sessions/${session}/messages`)).body.items;
    expect(stored.map((m: any) => [m.seq, m.role, m.content])).toEqual([
      [1, 'user', 'Why is checkout slow?'],
      [2, 'assistant', 'checkout got slow after a deployment'],
      [3, 'user', 'What changed in checkout today?'],
      [4, 'assistant', 'one deployment of checkout today'],
    ]);
    expect(stored[1].answer.findings).toHaveLength(3);
    expect(stored[1].trace.filter((s: any) => s.kind === 'tool')).toHaveLength(3);
  });

  it("never reaches another tenant's data: tools asked about tenant b's service find nothing, and a cited ref of b's is unsupported", {
    timeout: 60_000,
  }, async () => {
    ollama.reset();
    ollama.script(
      { kind: 'tool_calls', calls: [{ name: 'incidents', arguments: { service: 'payments' } }] },
      { kind: 'tool_calls', calls: [{ name: 'incident', arguments: { id: incidentOf.b } }] },
      { kind: 'tool_calls', calls: [{ name: 'deployments', arguments: { service: 'payments' } }] },
      { kind: 'tool_calls', calls: [{ name: 'metric_series', arguments: { service: 'payments', metric: 'http_request_duration_ms' } }] },
      answer([{ statement: 'payments has an incident', evidence: [`incident:${incidentOf.b}`, 'deployment:payments:v9.1.3'] }], 'payments looks broken'),
    );
    const res = await askIn(session, 'Is payments broken?');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const tools = res.body.trace.filter((s: any) => s.kind === 'tool');
    expect(tools.map((s: any) => s.tool)).toEqual(['incidents', 'incident', 'deployments', 'metric_series']);
    expect(tools.every((s: any) => s.rows === 0)).toBe(true);
    expect(res.body.findings[0]).toMatchObject({ evidence: [], unsupported: [`incident:${incidentOf.b}`, 'deployment:payments:v9.1.3'] });
    // What went back to the model holds none of b's data (b's incident id only as the model's own argument, echoed in "not found").
    const sent = toolResultsSent();
    expect(sent).not.toContain('v9.1.3');
    expect(tools[1]).toMatchObject({ tool: 'incident', rows: 0 });
    // …and tenant b cannot open tenant a's session.
    expect((await askIn(session, 'hello', p.keys.b)).status).toBe(404);
    expect((await call('GET', `/v1/assistant/sessions/${session}/messages`, undefined, p.keys.b)).status).toBe(404);
  });

  it('streams: the steps as server-sent events, then the answer', { timeout: 60_000 }, async () => {
    ollama.reset();
    ollama.script(
      { kind: 'tool_calls', calls: [{ name: 'deployments', arguments: {} }] },
      answer([{ statement: 'one deployment', evidence: ['deployment:checkout:v2.4.0'] }], 'one deployment'),
    );
    const res = await p.app.request(`/v1/assistant/sessions/${session}/messages?stream=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.keys.a}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ question: 'What was deployed?' }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    const events = text
      .split('\n\n')
      .filter(Boolean)
      .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') }));
    expect(events.map((e) => e.event)).toEqual(['step', 'step', 'step', 'answer']);
    expect(events.map((e) => e.data.kind ?? null)).toEqual(['model', 'tool', 'model', null]);
    expect(events[3]!.data).toMatchObject({ source: 'llm', summary: 'one deployment' });
  });

  it('with the model down, answers "what is wrong with checkout?" by the rules, labelled so; an unrecognised question needs the model', {
    timeout: 60_000,
  }, async () => {
    const down = await newSession();
    ollama.reset();
    ollama.script({ kind: 'status', code: 500, error: 'model crashed' });
    const ruled = await askIn(down, 'What is wrong with checkout?');
    expect(ruled.body).toMatchObject({ source: 'rules', fallback_reason: 'http_error', model: null });
    expect(ruled.body.summary).toMatch(/Answered by rules/);
    const cited = ruled.body.findings.flatMap((f: any) => f.evidence.map((e: any) => e.ref));
    expect(cited).toContain(`incident:${incidentOf.a}`);
    expect(cited).toContain('deployment:checkout:v2.4.0');
    expect(cited).not.toContain(`incident:${incidentOf.b}`);

    ollama.script({ kind: 'status', code: 500 });
    const poem = await askIn(down, 'Write a haiku about Kafka');
    expect(poem.body).toMatchObject({ source: 'needs_model', fallback_reason: 'http_error', confidence: 0, findings: [] });
    expect(poem.body.summary).toMatch(/needs the model/);
  });

  it('`autopilot ask` asks a running gateway, one shot: the steps on stderr, the answer with its evidence on stdout', { timeout: 60_000 }, async () => {
    const server = await listen(p.app);
    try {
      ollama.reset();
      ollama.script(
        { kind: 'tool_calls', calls: [{ name: 'deployments', arguments: { service: 'checkout' } }] },
        answer([{ statement: 'checkout v2.4.0 went out before it slowed', evidence: ['deployment:checkout:v2.4.0'] }], 'checkout was deployed'),
      );
      const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'ask', 'What changed in checkout today?'], {
          env: { ...process.env, AUTOPILOT_URL: server.url, AUTOPILOT_API_KEY: p.keys.a },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain('checkout was deployed');
      expect(out.stdout).toContain('• checkout v2.4.0 went out before it slowed');
      expect(out.stdout).toMatch(/deployment:checkout:v2\.4\.0 {2}checkout v2\.4\.0 deployed at /);
      expect(out.stdout).toMatch(/confidence 80\/100, answered by the model, 1 tool calls/);
      expect(out.stderr).toMatch(/deployments\(\{"service":"checkout"\}\) → 1 rows/);
    } finally {
      await server.close();
    }
  });

  it('a deleted session is gone', async () => {
    const s = await newSession();
    expect((await call('DELETE', `/v1/assistant/sessions/${s}`)).status).toBe(204);
    expect((await call('GET', `/v1/assistant/sessions/${s}`)).status).toBe(404);
  });
});
