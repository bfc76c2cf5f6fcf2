import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testJobContext } from '../../../test/helpers/job-context.ts';
import { startOllamaStandIn, type OllamaStandIn } from '../../../test/helpers/ollama-stand-in.ts';
import { parseJob, type JobOf } from '../../../tenant-config/jobs.ts';
import { runExtract } from './run.ts';

/*
 * The page server stands in for a third-party page, the Ollama stand-in for
 * the model; the publisher stub encodes every record with its Avro schema,
 * so a record the topic would refuse fails here.
 */
const PAGE = `<!doctype html><html><head><title>Sale</title><style>body { color: red }</style></head>
<body><script>var tracking = "do not read";</script><h1>Spring sale</h1><p>The <b>Acme Widget</b> now costs 19.99 EUR.</p><p>In stock.</p></body></html>`;
const PAGE_TEXT = 'Spring sale The Acme Widget now costs 19.99 EUR. In stock.';

let ollama: OllamaStandIn;
let site: Server;
let siteUrl: string;
const seen: string[] = [];
beforeAll(async () => {
  ollama = await startOllamaStandIn();
  site = createServer((req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/sale') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    if (req.url === '/moved') return res.writeHead(301, { location: '/sale' }).end();
    res.writeHead(404).end('not here');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await ollama?.close();
  site?.closeAllConnections();
  await new Promise((resolve) => site?.close(resolve));
});
beforeEach(() => {
  ollama.reset();
  seen.length = 0;
});

const SCHEMA = { type: 'object', properties: { product: { type: 'string' }, price: { type: 'number' } }, required: ['product', 'price'] };
const job = (path: string) =>
  parseJob(
    { name: 'sale', schedule: '@hourly', kind: 'extract', params: { url: `${siteUrl}${path}`, schema: SCHEMA } },
    { allowLoopback: true },
  ) as JobOf<'extract'>;

describe('the extract job', () => {
  it('reads the page as text, extracts it through the model and stores the result with its quality score', async () => {
    ollama.script({ kind: 'answer', body: { result: { product: 'Acme Widget', price: 19.99 }, confidence: 0.9 } });
    const ctx = testJobContext({ llm: { host: ollama.url }, now: () => 1_764_000_000_000 });
    const result = await runExtract(job('/sale'), ctx);

    const [record, ...more] = ctx.publisher.records('extractions');
    expect(more).toHaveLength(0);
    expect(record).toMatchObject({
      tenant: 'acme',
      job_id: 'job-1',
      run_id: 'run-1',
      url: `${siteUrl}/sale`,
      status: 'ok',
      model: 'stand-in:latest',
      source_text: PAGE_TEXT,
      error: null,
      at: 1_764_000_000_000,
    });
    expect(JSON.parse(record!.result!)).toEqual({ product: 'Acme Widget', price: 19.99 });
    expect(JSON.parse(record!.quality_details)).toEqual({ schema_valid: 1, required_filled: 1, grounded: 1, confidence: 0.9 });
    expect(record!.quality).toBeCloseTo(0.975, 6);
    expect(record!.raw_answer).toContain('"confidence":0.9');
    expect(result).toEqual({ items: 1, details: { status: 'ok', quality: record!.quality } });
    // The model was given the visible text: no script, no style.
    expect((ollama.asked()[0]!.body!.messages as { content: string }[])[0]!.content).not.toContain('tracking');
  });

  it('records a malformed answer as invalid, with the raw text, and the run succeeds', async () => {
    ollama.script({ kind: 'text', content: 'I think it is a widget' });
    const ctx = testJobContext({ llm: { host: ollama.url } });
    const result = await runExtract(job('/sale'), ctx);
    const [record] = ctx.publisher.records('extractions');
    expect(record).toMatchObject({ status: 'invalid', raw_answer: 'I think it is a widget', result: null, quality: null, source_text: PAGE_TEXT });
    expect(record!.error).toMatch(/not JSON/);
    expect(result.details).toMatchObject({ status: 'invalid', quality: null });
  });

  it('with the model unreachable, records model_unavailable and keeps the page text; the run succeeds', async () => {
    const ctx = testJobContext(); // llm.host is 127.0.0.1:9, where nothing listens
    const result = await runExtract(job('/sale'), ctx);
    const [record] = ctx.publisher.records('extractions');
    expect(record).toMatchObject({ status: 'model_unavailable', source_text: PAGE_TEXT, raw_answer: null, result: null, quality: null });
    expect(record!.error).toMatch(/cannot be reached/);
    expect(result).toMatchObject({ items: 1, details: { status: 'model_unavailable' } });
  });

  it('a page that cannot be fetched fails the run, and nothing is published or asked', async () => {
    const ctx = testJobContext({ llm: { host: ollama.url } });
    await expect(runExtract(job('/gone'), ctx)).rejects.toThrow(/answered 404/);
    await expect(runExtract(job('/moved'), ctx)).rejects.toThrow(/answered 301 .*redirects are not followed/);
    expect(ctx.publisher.records('extractions')).toHaveLength(0);
    expect(ollama.asked()).toHaveLength(0);
  });

  it('goes through the URL guard: a loopback page is refused, without a request, where loopback is not allowed', async () => {
    const ctx = { ...testJobContext({ llm: { host: ollama.url } }), guard: { allowLoopback: false } };
    await expect(runExtract(job('/sale'), ctx)).rejects.toMatchObject({ code: 'invalid_target' });
    expect(seen).toHaveLength(0);
  });
});
