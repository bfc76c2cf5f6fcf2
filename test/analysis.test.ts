import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VALID_ANSWER } from './fixtures/analysis.ts';
import { sampleAnalysis } from './fixtures/notifications.ts';
import { startOllamaStandIn, type OllamaStandIn } from './helpers/ollama-stand-in.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { gaussian, seededRandom } from './helpers/random.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';

/**
 * Incidents from the real pipeline (metrics → detect → correlate) analysed by
 * the analyst against a stand-in for Ollama that answers well once, then
 * with invalid JSON, then too slowly, then with a 500: one llm analysis and
 * three rule-based ones, each saying why, none missing. Each analysed
 * incident is sent to a Slack-shaped receiver exactly once, through a 500
 * and a retry, and a replayed analysis does not page again (cooldown).
 */
const SERVICES = ['checkout', 'payments', 'search', 'catalog'];

describe('analysis and notification', () => {
  let p: TestPipeline;
  let ollama: OllamaStandIn;
  let slack: Receiver;

  beforeAll(async () => {
    ollama = await startOllamaStandIn({ model: 'llama3.2:3b' });
    slack = await startReceiver();
    p = await startTestPipeline('analysis', {
      processors: ['sink', 'detect', 'correlate', 'analyze', 'notify'],
      env: {
        OLLAMA_HOST: ollama.url,
        ANALYZE_TIMEOUT_MS: '1500',
        // One model call per incident, so the four scripted behaviours meet four incidents whatever their order.
        ANALYZE_RETRIES: '0',
        NOTIFY_ALLOW_LOOPBACK: 'true',
        NOTIFY_BACKOFF_MS: '50',
      },
    });
  });
  afterAll(async () => {
    await p?.stop();
    await ollama?.close();
    await slack?.close();
  });

  it('labels every analysis llm or rules, and notifies once per incident through a retry', async () => {
    const target = await p.post('/v1/notification-targets', { name: 'oncall', kind: 'slack', url: slack.url });
    expect(target.status).toBe(201);
    expect(((await target.json()) as { url: string }).url).toBe(`${new URL(slack.url).origin}/…`); // the webhook path is a secret
    slack.answer(500); // the first delivery fails once and is retried

    ollama.script(
      { kind: 'answer', body: VALID_ANSWER },
      { kind: 'text', content: 'The root cause is probably the deployment.' },
      { kind: 'slow', ms: 5000 },
      { kind: 'status', code: 500 },
    );

    const r = seededRandom(11);
    const T = Date.now() - 10 * 60_000;
    for (const service of SERVICES) {
      const point = (at: number, value: number) => ({ timestamp: at, metric_name: 'latency_ms', value, labels: { service } });
      const steady = Array.from({ length: 60 }, (_, i) => point(T - 60_000 + i * 1000, 100 + 3 * gaussian(r)));
      expect((await p.post('/v1/metrics', steady)).status).toBe(202);
      expect((await p.post('/v1/deployments', { timestamp: T, service, version: 'v7', status: 'succeeded' })).status).toBe(202);
      expect(
        (
          await p.post('/v1/logs', {
            timestamp: T + 500,
            level: 'error',
            service,
            message: `payment failed for user alice@example.com from 10.1.2.3 token=abcd1234efgh5678`,
          })
        ).status,
      ).toBe(202);
      expect((await p.post('/v1/metrics', [point(T + 1000, 900), point(T + 2000, 950), point(T + 3000, 920)])).status).toBe(202);
    }

    const analyses = await eventually(
      () =>
        p.rows<{
          service: string;
          source: string;
          model: string | null;
          fallback_reason: string | null;
          prompt_name: string;
          prompt_version: number;
          duration_ms: number;
          root_cause: string;
        }>(
          `SELECT service, source, model, fallback_reason, prompt_name, prompt_version, duration_ms, root_cause FROM analyses FINAL WHERE tenant = {t:String}`,
          { t: p.tenants.a },
        ),
      (rows) => rows.length >= SERVICES.length,
      60_000,
    );
    expect(analyses.map((a) => a.service).sort()).toEqual([...SERVICES].sort());
    expect(analyses.filter((a) => a.source === 'llm')).toHaveLength(1);
    expect(analyses.find((a) => a.source === 'llm')).toMatchObject({
      model: 'llama3.2:3b',
      fallback_reason: null,
      root_cause: VALID_ANSWER.root_cause.description,
    });
    expect(
      analyses
        .filter((a) => a.source === 'rules')
        .map((a) => a.fallback_reason)
        .sort(),
    ).toEqual(['http_error', 'invalid_answer', 'timeout']);
    for (const a of analyses) expect(a).toMatchObject({ prompt_name: 'incident-analysis', prompt_version: 0 });
    // The rules blame the deployment the correlator named.
    for (const a of analyses.filter((x) => x.source === 'rules')) expect(a.root_cause).toContain('v7');

    // What reached the model was redacted.
    const sent = JSON.stringify(ollama.asked().map((q) => q.body));
    expect(sent).not.toContain('alice@example.com');
    expect(sent).not.toContain('10.1.2.3');
    expect(sent).not.toContain('abcd1234efgh5678');

    // One Slack message per incident (plus the one 500), with the analysis in blocks.
    await eventually(
      async () => slack.bodies.length,
      (n) => n >= SERVICES.length + 1,
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000)); // anything extra would arrive by now
    expect(slack.bodies).toHaveLength(SERVICES.length + 1);
    const messages = slack.bodies as { text: string; attachments: { color: string; blocks: unknown[] }[] }[];
    for (const service of SERVICES) expect(messages.some((m) => m.text.includes(service))).toBe(true);
    expect(messages[0]!.attachments[0]!.blocks.length).toBeGreaterThan(2);

    const deliveries = await eventually(
      () =>
        p.rows<{ outcome: string; attempts: number }>(`SELECT outcome, attempts FROM notification_deliveries FINAL WHERE tenant = {t:String}`, {
          t: p.tenants.a,
        }),
      (rows) => rows.length === SERVICES.length,
      30_000,
    );
    expect(deliveries.every((d) => d.outcome === 'delivered')).toBe(true);
    expect(deliveries.map((d) => Number(d.attempts)).sort()).toEqual([1, 1, 1, 2]);

    // Another analysis for a service inside its cooldown (a replay, or a second incident): recorded as suppressed, not sent.
    await p.publisher.publish('analyses', [sampleAnalysis({ tenant: p.tenants.a, service: 'checkout', incident_id: 'inc_again' })]);
    const suppressed = await eventually(
      () =>
        p.rows<{ outcome: string }>(`SELECT outcome FROM notification_deliveries FINAL WHERE tenant = {t:String} AND subject_id = 'inc_again'`, {
          t: p.tenants.a,
        }),
      (rows) => rows.length === 1,
      30_000,
    );
    expect(suppressed[0]!.outcome).toBe('suppressed');
    expect(slack.bodies).toHaveLength(SERVICES.length + 1);

    // The incidents API shows the analysis with the incident.
    const [one] = await p.rows<{ incident_id: string }>(`SELECT incident_id FROM incidents FINAL WHERE tenant = {t:String} LIMIT 1`, { t: p.tenants.a });
    const res = await p.app.request(`/v1/incidents/${one!.incident_id}`, { headers: { authorization: `Bearer ${p.keys.a}` } });
    expect(res.status).toBe(200);
    const incident = (await res.json()) as { analysis: { source: string; recommended_actions: unknown[] } | null; signals: unknown[] };
    expect(['llm', 'rules']).toContain(incident.analysis!.source);
    expect(incident.analysis!.recommended_actions.length).toBeGreaterThan(0);
  }, 120_000);
});
