import { afterAll, beforeAll, expect, it } from 'vitest';
import { statusChange } from './fixtures/status-changes.ts';
import type { ExternalStatusChange } from '../schemas/topics.ts';
import { startOllamaStandIn, type OllamaStandIn } from './helpers/ollama-stand-in.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * A third-party outage as the status_page jobs report it (records on
 * autopilot.external-status), through the real correlator and analyst: a
 * major outage of Stripe's API opens an incident on checkout, which depends
 * on it, with the minor degradation posted before it on the timeline and the
 * recovery of another component left out; the analyst's prompt and its
 * rule-based answer (the model stand-in fails) name the provider.
 */
let p: TestPipeline;
let ollama: OllamaStandIn;

beforeAll(async () => {
  ollama = await startOllamaStandIn();
  p = await startTestPipeline('dependency', {
    processors: ['sink', 'correlate', 'analyze'],
    env: { OLLAMA_HOST: ollama.url, ANALYZE_TIMEOUT_MS: '2000', ANALYZE_RETRIES: '0' },
  });
});
afterAll(async () => {
  await p?.stop();
  await ollama?.close();
});

it('an incident on a service whose provider degraded names the provider', async () => {
  ollama.script({ kind: 'status', code: 500 }); // the rules answer
  const T = Date.now() - 5 * 60_000;
  const change = (id: string, at: number, over: Partial<ExternalStatusChange>): ExternalStatusChange =>
    statusChange({ change_id: `${p.tenants.a}-${id}`, tenant: p.tenants.a, job_id: 'job_stripe', subject_id: 'api', at, ...over });
  // One service, one partition: read in this order. Before the fix none of these opened anything
  // (the correlator did not read the topic, and one signal never opened an incident).
  await p.publisher.publish('externalStatus', [
    change('minor', T, {}),
    change('recovered', T + 60_000, {
      subject_id: 'dash',
      subject_name: 'Dashboard',
      from_status: 'partial_outage',
      to_status: 'operational',
      degraded: false,
      impact: 'none',
    }),
    change('major', T + 2 * 60_000, { from_status: 'degraded_performance', to_status: 'major_outage', impact: 'major', message: 'Elevated API error rates' }),
  ]);

  const [incident] = await eventually(
    () =>
      p.rows<{ incident_id: string; severity: string; opened_at: string; signals: string }>(
        `SELECT incident_id, severity, toUnixTimestamp64Milli(opened_at) AS opened_at, signals FROM incidents FINAL WHERE tenant = {t:String} AND service = 'checkout'`,
        { t: p.tenants.a },
      ),
    (rows) => rows.length === 1,
    90_000,
  );
  expect(incident!.severity).toBe('high');
  expect(Number(incident!.opened_at)).toBe(T); // the minor degradation in the look-back starts the timeline
  const signals = JSON.parse(incident!.signals) as { id: string; kind: string; summary: string }[];
  expect(signals.map((s) => [s.kind, s.summary])).toEqual([
    ['dependency', 'Stripe: API degraded_performance (minor)'],
    ['dependency', 'Stripe: API major_outage (major)'],
  ]);

  const [analysis] = await eventually(
    () =>
      p.rows<{ source: string; fallback_reason: string | null; root_cause: string }>(
        `SELECT source, fallback_reason, root_cause FROM analyses FINAL WHERE tenant = {t:String} AND incident_id = {id:String}`,
        { t: p.tenants.a, id: incident!.incident_id },
      ),
    (rows) => rows.length === 1,
    60_000,
  );
  expect(analysis).toMatchObject({ source: 'rules', fallback_reason: expect.any(String) });
  // The status rows (or, if the sink is behind the analyst, the correlator's signals) name Stripe and its API.
  expect(analysis!.root_cause).toMatch(/^(Third-party dependency Stripe \(API\) is degraded|A third-party dependency of checkout is degraded \(Stripe: API)/);
  const [asked] = ollama.asked();
  expect(JSON.stringify(asked!.body)).toMatch(/Third-party dependencies of checkout [^"]*Stripe/);
});
