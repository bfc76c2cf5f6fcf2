import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OllamaStandIn, startOllamaStandIn } from '../../../test/helpers/ollama-stand-in.ts';
import { testJobContext } from '../../../test/helpers/job-context.ts';
import { brief, statusJob } from './fixtures/jobs.ts';
import { type StatusSource, startStatusSource } from './fixtures/status-source.ts';
import { STATUS_SCHEMA } from './html.ts';
import { runStatusPage } from './run.ts';

/*
 * Format html: a page with no API nor feed, read by the model (here the
 * Ollama stand-in) into the built-in status schema. Before this folder there
 * was no reader at all; what is pinned is that the model's reading goes
 * through the same change rules, and that a model that cannot read the page
 * fails the run without moving the job's state.
 */

let source: StatusSource;
let ollama: OllamaStandIn;
beforeAll(async () => {
  [source, ollama] = await Promise.all([startStatusSource(), startOllamaStandIn()]);
});
afterAll(async () => Promise.all([source?.close(), ollama?.close()]));
beforeEach(() => ollama.reset());

const pageHtml = (api: string, incident = '') => `<!doctype html>
<html><head><title>Acme Mail status</title><style>.ok{color:green}</style><script>window.__STATE__={}</script></head>
<body>
  <h1>Acme Mail status</h1>
  <p class="summary">${api === 'Operational' ? 'All Systems Operational' : 'Some systems are experiencing issues'}</p>
  ${incident}
  <ul class="components">
    <li><span>Sending API</span> <span class="state">${api}</span></li>
    <li><span>Dashboard</span> <span class="state">Operational</span></li>
  </ul>
  <h2>Past incidents</h2><p>Nov 28 — Delayed webhooks — Resolved</p>
</body></html>`;

const answer = (result: unknown) => ({ kind: 'answer' as const, body: { result, confidence: 0.9 } });

describe('status_page job, format html, read by the model', () => {
  const ctx = testJobContext({ jobId: 'job-html', llm: { host: '', timeoutMs: 5000 } });
  const job = () =>
    statusJob({
      provider: 'Acme Mail',
      url: source.url('/status'),
      format: 'html',
      model: 'qwen2.5:3b',
      dependents: [{ service: 'notify', components: ['Sending API'] }],
    });
  beforeAll(() => {
    ctx.llm.host = ollama.url;
  });

  it('first read: the page text goes to the model with the status schema; its answer is the first state', async () => {
    source.serve('/status', pageHtml('Operational'), 'text/html; charset=utf-8');
    ollama.script(
      answer({
        indicator: 'none',
        description: 'All Systems Operational',
        components: [
          { name: 'Sending API', status: 'operational' },
          { name: 'Dashboard', status: 'operational' },
        ],
        incidents: [],
      }),
    );
    const result = await runStatusPage(job(), ctx);
    const [asked] = ollama.asked();
    expect(asked!.body).toMatchObject({ model: 'qwen2.5:3b' });
    expect((asked!.body!.format as { properties: { result: unknown } }).properties.result).toEqual(STATUS_SCHEMA);
    const prompt = (asked!.body!.messages as { content: string }[])[0]!.content;
    expect(prompt).toContain('Sending API Operational');
    expect(prompt).not.toContain('__STATE__');
    expect(ctx.publisher.records('externalStatus').map(brief).sort()).toEqual([
      'component:Dashboard null→operational @',
      'component:Sending API null→operational @notify',
      'page:Acme Mail null→none @',
    ]);
    expect(result.details).toMatchObject({ format: 'html', components: 2, incidents: 0 });
  });

  it('the page changes: the model reads a degraded component and an incident', async () => {
    const incident =
      '<section class="incident"><h3>Delayed sending</h3><p><strong>Investigating</strong> - Messages are queued for up to 5 minutes.</p></section>';
    source.serve('/status', pageHtml('Degraded performance', incident), 'text/html; charset=utf-8');
    ollama.script(
      answer({
        indicator: 'minor',
        description: 'Some systems are experiencing issues',
        components: [
          { name: 'Sending API', status: 'degraded_performance' },
          { name: 'Dashboard', status: 'operational' },
        ],
        incidents: [
          {
            name: 'Delayed sending',
            status: 'investigating',
            impact: 'minor',
            message: 'Messages are queued for up to 5 minutes.',
            components: ['Sending API'],
          },
        ],
      }),
    );
    const before = ctx.publisher.records('externalStatus').length;
    await runStatusPage(job(), ctx);
    const records = ctx.publisher.records('externalStatus').slice(before);
    expect(records.map(brief).sort()).toEqual([
      'component:Sending API operational→degraded_performance @notify',
      'incident:Delayed sending null→investigating @notify',
      'page:Acme Mail none→minor @',
    ]);
    expect(records.every((r) => r.degraded)).toBe(true);
    expect(records.find((r) => r.subject_kind === 'incident')).toMatchObject({ subject_id: 'delayed_sending', impact: 'minor', url: source.url('/status') });
  });

  it('a model that is down, or answers off the schema, fails the run and leaves the state as it was', async () => {
    const state = structuredClone(ctx.saved());
    source.serve('/status', pageHtml('Major outage'), 'text/html; charset=utf-8');
    ollama.script({ kind: 'status', code: 500, error: 'model runner crashed' });
    await expect(runStatusPage(job(), ctx)).rejects.toThrow(/model is unavailable/);
    ollama.script(answer({ indicator: 'on fire', components: 'many' }));
    await expect(runStatusPage(job(), ctx)).rejects.toThrow(/does not fit the status schema/);
    expect(ctx.saved()).toEqual(state);
  });
});
