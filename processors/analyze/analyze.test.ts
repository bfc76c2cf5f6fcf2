import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOllamaStandIn, type Behaviour, type OllamaStandIn } from '../../test/helpers/ollama-stand-in.ts';
import { AnalysisAnswer } from './answer.ts';
import { analysisId, analyzeIncident, type AnalyzeDeps } from './analyze.ts';
import { askModel } from './llm.ts';
import { DEFAULT_PROMPT } from './prompt.ts';
import { context, incident, MIN, T, VALID_ANSWER } from '../../test/fixtures/analysis.ts';

let ollama: OllamaStandIn;
beforeAll(async () => {
  ollama = await startOllamaStandIn();
});
afterAll(async () => ollama?.close());
beforeEach(() => ollama.reset());

const SECRET_LOG = 'payment failed for alice@example.com: upstream 10.0.3.7 said 401 to api_key=sk-abc-123456';
const inc = incident();
const ctx = context({
  anomalies: [{ metric: 'latency_ms', kind: 'metric', labels: { route: '/pay' }, value: 812, baseline: 120, z: 8.1, severity: 'critical', at: T + 3 * MIN }],
  deployments: [
    { at: T - 20 * MIN, version: 'v2.3.9', status: 'succeeded', metadata: {} },
    { at: T, version: 'v2.4.0', status: 'succeeded', metadata: {} },
  ],
  errorLogs: [{ at: T + 4 * MIN, level: 'error', message: SECRET_LOG, labels: { component: 'payments' } }],
});

function deps(over: Partial<AnalyzeDeps> & { host?: string; timeoutMs?: number } = {}): AnalyzeDeps {
  const { host = ollama.url, timeoutMs = 2000, ...rest } = over;
  return {
    loadContext: async () => ctx,
    prompt: DEFAULT_PROMPT,
    experiment: null,
    ask: (prompt) => askModel({ host, model: 'llama3.2:3b', prompt, timeoutMs, retries: 1, retryDelayMs: 10 }),
    now: Date.now,
    maxContextBytes: 8000,
    ...rest,
  };
}

describe('analyzeIncident with an Ollama stand-in', () => {
  it('a valid answer becomes an llm analysis carrying the incident facts', async () => {
    ollama.script({ kind: 'answer', body: VALID_ANSWER });
    const record = await analyzeIncident(inc, deps({ experiment: { id: 'exp-1', variant: 'b' } }));

    expect(record).toMatchObject({
      analysis_id: `${inc.incident_id}:v3:incident-analysis@0:exp-1/b`,
      incident_id: inc.incident_id,
      tenant: 'acme',
      service: 'checkout',
      source: 'llm',
      model: 'llama3.2:3b',
      prompt_name: 'incident-analysis',
      prompt_version: 0,
      experiment_id: 'exp-1',
      variant: 'b',
      fallback_reason: null,
      ...VALID_ANSWER,
      incident_severity: 'critical',
      incident_opened_at: T,
    });
    expect(record.signals).toEqual(inc.signals.map(({ id: _, ...s }) => s));

    // The model saw the context, redacted, and was told the schema.
    const sent = ollama.asked()[0]!.body as { messages: { content: string }[]; format: unknown };
    const prompt = sent.messages[0]!.content;
    expect(prompt).toContain('Service: checkout');
    expect(prompt).toContain('payment failed for [REDACTED:email]: upstream [REDACTED:ip] said 401 to api_key=[REDACTED:credential]');
    expect(prompt).not.toMatch(/alice@|10\.0\.3\.7|sk-abc/);
    expect(sent.format).toMatchObject({ type: 'object', required: expect.arrayContaining(['root_cause']) });
  });

  it.each<[string, Behaviour[], Partial<Parameters<typeof deps>[0]>]>([
    ['invalid_answer', [{ kind: 'text', content: 'I think it was the deployment.' }], {}],
    ['timeout', [{ kind: 'slow', ms: 5000, then: { kind: 'answer', body: VALID_ANSWER } }], { timeoutMs: 250 }],
    [
      'http_error',
      [
        { kind: 'status', code: 500 },
        { kind: 'status', code: 500 },
        { kind: 'answer', body: VALID_ANSWER },
      ],
      {},
    ],
  ])('%s: the rules answer, labelled with the reason', async (reason, behaviours, over) => {
    ollama.script(...behaviours);
    const record = await analyzeIncident(inc, deps(over));
    expect(record).toMatchObject({ source: 'rules', model: null, fallback_reason: reason, prompt_name: 'incident-analysis', prompt_version: 0 });
    expect(AnalysisAnswer.parse(record)).toMatchObject({ root_cause: record.root_cause });
    expect(record.root_cause.description).toContain('v2.4.0');
    expect(record.recommended_actions[0]!.action).toBe('Roll back checkout from v2.4.0 to v2.3.9');
    if (reason === 'timeout') expect(record.duration_ms).toBeGreaterThanOrEqual(240);
  });

  it('unreachable: the rules answer when nothing listens', async () => {
    const down = await startOllamaStandIn();
    const host = down.url;
    await down.close();
    const record = await analyzeIncident(inc, deps({ host }));
    expect(record).toMatchObject({ source: 'rules', fallback_reason: 'unreachable' });
  });

  it('a prompt that does not render falls back without asking the model', async () => {
    const record = await analyzeIncident(inc, deps({ prompt: { name: 'custom', version: 4, template: 'Explain {{servce}}: {{context}}' } }));
    expect(record).toMatchObject({ source: 'rules', fallback_reason: 'prompt_invalid', prompt_name: 'custom', prompt_version: 4 });
    expect(ollama.asked()).toHaveLength(0);
  });

  it('measures the duration end to end on the clock it is given, context loading included', async () => {
    const ticks = [1_000, 1_750];
    ollama.script({ kind: 'answer', body: VALID_ANSWER });
    const record = await analyzeIncident(inc, deps({ now: () => ticks.shift()! }));
    expect(record.duration_ms).toBe(750);
    expect(record.created_at).toBe(1_750);
  });

  it('a context that cannot be loaded is not hidden', async () => {
    await expect(analyzeIncident(inc, deps({ loadContext: async () => Promise.reject(new Error('ClickHouse down')) }))).rejects.toThrow('ClickHouse down');
  });
});

describe('analysisId', () => {
  it('is the same for a replay of the same incident version and prompt, and differs otherwise', () => {
    const p = { name: 'incident-analysis', version: 0 };
    expect(analysisId(inc, p, null)).toBe(analysisId(structuredClone(inc), { ...p }, null));
    expect(analysisId(inc, p, null)).toBe(`${inc.incident_id}:v3:incident-analysis@0`);
    expect(analysisId({ ...inc, version: 4 }, p, null)).not.toBe(analysisId(inc, p, null));
    expect(analysisId(inc, { ...p, version: 1 }, null)).not.toBe(analysisId(inc, p, null));
    expect(analysisId(inc, p, { id: 'e', variant: 'a' })).not.toBe(analysisId(inc, p, { id: 'e', variant: 'b' }));
  });
});
