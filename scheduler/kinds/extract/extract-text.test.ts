import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOllamaStandIn, type OllamaStandIn } from '../../../test/helpers/ollama-stand-in.ts';
import type { Extraction } from '../../../tenant-config/jobs.ts';
import { answerSchema, extractText } from './extract-text.ts';

/*
 * Before this file's implementation extractText threw "not implemented" for
 * every call, so each case here failed; the cases below pin what each status
 * means and what an outcome keeps.
 */
let ollama: OllamaStandIn;
beforeAll(async () => {
  ollama = await startOllamaStandIn();
});
afterAll(async () => ollama?.close());
beforeEach(() => ollama.reset());

const SCHEMA = {
  type: 'object',
  properties: { product: { type: 'string' }, price: { type: 'number' }, in_stock: { type: 'boolean' } },
  required: ['product', 'price'],
};
const extraction = (over: Partial<Extraction> = {}): Extraction => ({ schema: SCHEMA, instructions: 'the product on sale', max_chars: 20_000, ...over });
const PAGE = 'Spring sale. The Acme Widget now costs 19.99 EUR, in stock in Oslo.';
const llm = (over: { host?: string; timeoutMs?: number; model?: string } = {}) => ({
  llm: { host: ollama.url, model: 'qwen2.5:3b', timeoutMs: 2000, ...over },
  signal: new AbortController().signal,
});

describe('extractText through the Ollama stand-in', () => {
  it('validates the answer, scores it, and asks with the schema wrapped with a confidence as format', async () => {
    ollama.script({ kind: 'answer', body: { result: { product: 'Acme Widget', price: 19.99, in_stock: true }, confidence: 0.8 } });
    const o = await extractText(PAGE, extraction(), llm());
    expect(o.status).toBe('ok');
    expect(o.result).toEqual({ product: 'Acme Widget', price: 19.99, in_stock: true });
    expect(o.quality_details).toEqual({ schema_valid: 1, required_filled: 1, grounded: 1, confidence: 0.8 });
    expect(o.quality).toBeCloseTo(0.4 + 0.35 + 0.25 * 0.8, 6);
    expect(o.error).toBeNull();
    expect(o.raw_answer).toContain('Acme Widget');
    expect(o.model).toBe('qwen2.5:3b');
    expect(o.source_text).toBe(PAGE);

    const [req] = ollama.asked();
    expect(req!.body).toMatchObject({ model: 'qwen2.5:3b', stream: false, format: answerSchema(SCHEMA) });
    expect((req!.body!.format as any).properties.result).toEqual(SCHEMA);
    expect((req!.body!.format as any).required).toEqual(['result', 'confidence']);
    const prompt = (req!.body!.messages as { content: string }[])[0]!.content;
    expect(prompt).toContain(PAGE);
    expect(prompt).toContain('the product on sale');
  });

  it('a made-up value lowers the score: grounding reads the page', async () => {
    ollama.script({ kind: 'answer', body: { result: { product: 'Acme Gadget', price: 19.99 }, confidence: 0.9 } });
    const o = await extractText(PAGE, extraction(), llm());
    expect(o.status).toBe('ok');
    expect(o.quality_details.grounded).toBe(0.5);
    expect(o.quality).toBeCloseTo(0.4 * 0.5 + 0.35 + 0.25 * 0.9, 6);
  });

  it("uses the job's own model when it names one", async () => {
    ollama.script({ kind: 'answer', body: { result: { product: 'Acme Widget', price: 19.99 }, confidence: 1 } });
    const o = await extractText(PAGE, extraction({ model: 'llama3.1:8b' }), llm());
    expect(o.model).toBe('llama3.1:8b');
    expect(ollama.asked()[0]!.body!.model).toBe('llama3.1:8b');
  });

  it('an answer that is not JSON is invalid, its raw text kept', async () => {
    ollama.script({ kind: 'text', content: 'Sure! The product is the Acme Widget for 19.99.' });
    const o = await extractText(PAGE, extraction(), llm());
    expect(o.status).toBe('invalid');
    expect(o.raw_answer).toBe('Sure! The product is the Acme Widget for 19.99.');
    expect(o.error).toMatch(/not JSON/);
    expect(o.result).toBeNull();
    expect(o.quality).toBeNull();
    expect(o.source_text).toBe(PAGE);
  });

  it('JSON that is not of the schema is invalid, says what is wrong, and scores 0', async () => {
    ollama.script({ kind: 'answer', body: { result: { product: 'Acme Widget', price: 'cheap' }, confidence: 0.9 } });
    const o = await extractText(PAGE, extraction(), llm());
    expect(o.status).toBe('invalid');
    expect(o.error).toMatch(/not of the schema/);
    expect(o.error).toMatch(/price/);
    expect(o.raw_answer).toContain('"cheap"');
    expect(o.result).toBeNull();
    expect(o.quality).toBe(0);
    expect(o.quality_details.schema_valid).toBe(0);
  });

  it('reads an answer without the wrapper as the result itself, with no confidence', async () => {
    ollama.script({ kind: 'text', content: '```json\n{"product": "Acme Widget", "price": 19.99}\n```' });
    const o = await extractText(PAGE, extraction(), llm());
    expect(o.status).toBe('ok');
    expect(o.result).toEqual({ product: 'Acme Widget', price: 19.99 });
    expect(o.quality_details.confidence).toBeNull();
    expect(o.quality).toBe(1);
  });

  it('a model that cannot be reached is model_unavailable, the page text kept', async () => {
    const o = await extractText(PAGE, extraction(), llm({ host: `http://127.0.0.1:${await closedPort()}` }));
    expect(o.status).toBe('model_unavailable');
    expect(o.error).toMatch(/cannot be reached.*ECONNREFUSED/);
    expect(o.source_text).toBe(PAGE);
    expect(o.raw_answer).toBeNull();
    expect(o.quality).toBeNull();
  });

  it('an Ollama error (model not pulled) is model_unavailable', async () => {
    ollama.script({ kind: 'status', code: 404, error: "model 'qwen2.5:3b' not found" });
    const o = await extractText(PAGE, extraction(), llm());
    expect(o.status).toBe('model_unavailable');
    expect(o.error).toMatch(/404.*not found/);
  });

  it('a model slower than llm.timeoutMs is model_unavailable (its late answer, {}, would have been invalid)', async () => {
    ollama.script({ kind: 'slow', ms: 5000 });
    const o = await extractText(PAGE, extraction(), llm({ timeoutMs: 150 }));
    expect(o.status).toBe('model_unavailable');
    expect(o.error).toBe('model qwen2.5:3b did not answer within 150 ms');
  });

  it('a run stopped while the model thinks ends the call as model_unavailable, saying so', async () => {
    ollama.script({ kind: 'slow', ms: 5000 });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const o = await extractText(PAGE, extraction(), { ...llm(), signal: stop.signal });
    expect(o.status).toBe('model_unavailable');
    expect(o.error).toMatch(/run was stopped/);
  });

  it('gives the model at most max_chars of the text', async () => {
    ollama.script({ kind: 'answer', body: { result: { product: 'x', price: 1 }, confidence: 0.5 } });
    const long = `${'word '.repeat(300)}TAIL-MARKER`;
    const o = await extractText(long, extraction({ max_chars: 500 }), llm());
    expect(o.source_text).toHaveLength(500);
    const prompt = (ollama.asked()[0]!.body!.messages as { content: string }[])[0]!.content;
    expect(prompt).not.toContain('TAIL-MARKER');
  });

  it("keeps a schema's $defs at the root of the format, where its $refs point", async () => {
    const schema = { type: 'object', properties: { seller: { $ref: '#/$defs/seller' } }, required: ['seller'], $defs: { seller: { type: 'string' } } };
    expect(answerSchema(schema)).toMatchObject({
      $defs: { seller: { type: 'string' } },
      properties: { result: { properties: { seller: { $ref: '#/$defs/seller' } } } },
    });
    expect((answerSchema(schema).properties as any).result.$defs).toBeUndefined();
    ollama.script({ kind: 'answer', body: { result: { seller: 'Acme' }, confidence: 1 } }, { kind: 'answer', body: { result: { seller: 7 }, confidence: 1 } });
    expect((await extractText('Acme sells it', extraction({ schema }), llm())).status).toBe('ok');
    expect((await extractText('Acme sells it', extraction({ schema }), llm())).status).toBe('invalid');
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
