import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VALID_ANSWER } from '../../test/fixtures/analysis.ts';
import { startOllamaStandIn, type OllamaStandIn } from '../../test/helpers/ollama-stand-in.ts';
import type { ModelCall } from '../../lib/model-calls.ts';
import { askModel } from './llm.ts';
import { ANALYST_AGENT, analystCallEvent } from './self-telemetry.ts';

/**
 * The analyst's own model calls as agent events: every attempt reported, with
 * Ollama's token counts (the stand-in answers prompt_eval_count 10, eval_count
 * 20) and its status. Before onCall existed nothing was reported at all.
 */

describe('the analyst as an agent', () => {
  let ollama: OllamaStandIn;
  beforeAll(async () => {
    ollama = await startOllamaStandIn();
  });
  afterAll(async () => ollama?.close());

  it('reports each attempt: a failed one as an error, the answered one with its tokens', async () => {
    ollama.script({ kind: 'status', code: 503, error: 'loading' }, { kind: 'answer', body: VALID_ANSWER });
    const calls: ModelCall[] = [];
    const before = Date.now();
    await askModel({ host: ollama.url, model: 'llama3.2:3b', prompt: 'why?', timeoutMs: 5000, retries: 1, retryDelayMs: 1, onCall: (c) => calls.push(c) });
    expect(calls.map((c) => [c.error, c.inputTokens, c.outputTokens])).toEqual([
      ['http_error', 0, 0],
      [null, 10, 20],
    ]);
    expect(calls[1]!.model).toBe('llama3.2:3b');
    expect(calls[1]!.startedAt).toBeGreaterThanOrEqual(before);
    expect(calls[1]!.durationMs).toBeGreaterThanOrEqual(0);

    const event = analystCallEvent('self', calls[1]!, { incident_id: 'inc-1', service: 'checkout' });
    expect(event).toMatchObject({
      tenant: 'self',
      agent: ANALYST_AGENT,
      model: 'llama3.2:3b',
      provider: 'ollama',
      input_tokens: 10,
      output_tokens: 20,
      status: 'ok',
      error_type: null,
      cost: null,
      session_id: 'inc-1',
    });
    expect(analystCallEvent('self', calls[0]!, { incident_id: 'inc-1', service: 'checkout' })).toMatchObject({ status: 'error', error_type: 'http_error' });
  });
});
