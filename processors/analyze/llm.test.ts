import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOllamaStandIn, type OllamaStandIn } from '../../test/helpers/ollama-stand-in.ts';
import { ANSWER_JSON_SCHEMA } from './answer.ts';
import { ModelFailure } from '../../lib/model-calls.ts';
import { askModel, parseAnswer, type AskOptions } from './llm.ts';
import { VALID_ANSWER } from '../../test/fixtures/analysis.ts';

let ollama: OllamaStandIn;
beforeAll(async () => {
  ollama = await startOllamaStandIn();
});
afterAll(async () => ollama?.close());
beforeEach(() => ollama.reset());

const ask = (over: Partial<AskOptions> = {}) =>
  askModel({ host: ollama.url, model: 'llama3.2:3b', prompt: 'What broke?', timeoutMs: 2000, retries: 2, retryDelayMs: 10, ...over });

async function failure(p: Promise<unknown>): Promise<ModelFailure> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelFailure);
  return err as ModelFailure;
}

describe('askModel against an Ollama stand-in', () => {
  it('returns the validated answer, sending the schema as format, no streaming and a low temperature', async () => {
    ollama.script({ kind: 'answer', body: { ...VALID_ANSWER, severity: 'HIGH' } });
    const result = await ask();
    expect(result.answer).toEqual(VALID_ANSWER);
    expect(result.model).toBe('llama3.2:3b');
    expect(result.attempts).toBe(1);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);

    const [request] = ollama.asked();
    expect(request!.path).toBe('/api/chat');
    expect(request!.body).toMatchObject({
      model: 'llama3.2:3b',
      stream: false,
      format: ANSWER_JSON_SCHEMA,
      messages: [{ role: 'user', content: 'What broke?' }],
    });
    expect((request!.body!.options as { temperature: number }).temperature).toBeLessThanOrEqual(0.2);
  });

  it('text that is not JSON is an invalid answer, not retried', async () => {
    ollama.script({ kind: 'text', content: 'The root cause is probably the deployment.' });
    const err = await failure(ask());
    expect(err.reason).toBe('invalid_answer');
    expect(err.message).toContain('is not JSON: "The root cause is probably the deployment."');
    expect(err.attempts).toBe(1);
    expect(ollama.asked()).toHaveLength(1);
  });

  it('JSON that does not match the schema is an invalid answer too', async () => {
    ollama.script({ kind: 'answer', body: { ...VALID_ANSWER, root_cause: { ...VALID_ANSWER.root_cause, confidence: 140 } } });
    const err = await failure(ask());
    expect(err.reason).toBe('invalid_answer');
    expect(err.message).toMatch(/does not match the schema: .*root_cause\.confidence/);
  });

  it('a slow model times out within the deadline, and is not retried', async () => {
    ollama.script({ kind: 'slow', ms: 5000, then: { kind: 'answer', body: VALID_ANSWER } });
    const started = Date.now();
    const err = await failure(ask({ timeoutMs: 300 }));
    const took = Date.now() - started;
    expect(err.reason).toBe('timeout');
    expect(err.message).toBe('model llama3.2:3b did not answer within 300 ms');
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
    expect(ollama.asked()).toHaveLength(1);
  });

  it('a 500 is retried a limited number of times, then is an http_error', async () => {
    ollama.script(...Array.from({ length: 5 }, () => ({ kind: 'status' as const, code: 500, error: 'model runner has unexpectedly stopped' })));
    const err = await failure(ask({ retries: 2 }));
    expect(err.reason).toBe('http_error');
    expect(err.status).toBe(500);
    expect(err.message).toContain('model runner has unexpectedly stopped');
    expect(err.attempts).toBe(3);
    expect(ollama.asked()).toHaveLength(3);
  });

  it('a retry that succeeds returns the answer', async () => {
    ollama.script({ kind: 'status', code: 503, error: 'server busy' }, { kind: 'answer', body: VALID_ANSWER });
    const result = await ask();
    expect(result.attempts).toBe(2);
    expect(result.answer).toEqual(VALID_ANSWER);
  });

  it('a 404 (model not pulled) is an http_error at once', async () => {
    ollama.script({ kind: 'status', code: 404, error: "model 'llama3.2:3b' not found" });
    const err = await failure(ask());
    expect(err).toMatchObject({ reason: 'http_error', status: 404, attempts: 1, retriable: false });
  });

  it('a server that is down is unreachable, after the retries', async () => {
    const port = await closedPort();
    const err = await failure(ask({ host: `http://127.0.0.1:${port}`, retries: 1 }));
    expect(err.reason).toBe('unreachable');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.attempts).toBe(2);
  });

  it('the stand-in also speaks /api/generate and /api/tags as the client expects', async () => {
    const { Ollama } = await import('ollama');
    const client = new Ollama({ host: ollama.url });
    ollama.script({ kind: 'answer', body: VALID_ANSWER });
    const generated = await client.generate({ model: 'm', prompt: 'p', stream: false, format: ANSWER_JSON_SCHEMA });
    expect(JSON.parse(generated.response!)).toEqual(VALID_ANSWER);
    expect((await client.list()).models.map((m) => m.name)).toEqual(['stand-in:latest']);
  });
});

describe('parseAnswer', () => {
  it('takes an answer inside a ```json fence', () => {
    const content = `\`\`\`json\n${JSON.stringify(VALID_ANSWER)}\n\`\`\``;
    expect(parseAnswer({ message: { role: 'assistant', content }, done_reason: 'stop' })).toEqual(VALID_ANSWER);
  });

  it('says when the answer was cut off at the token limit', () => {
    expect(() => parseAnswer({ message: { role: 'assistant', content: '{"root_cause": {"desc' }, done_reason: 'length' })).toThrow(
      /cut off at the token limit/,
    );
  });
});

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
