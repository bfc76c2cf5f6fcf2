import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../lib/time.ts';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';

/**
 * POST /v1/agent-events through the app, with a stub publisher: the record
 * Kafka gets, the id that makes a retried request the same event, and what
 * is refused (400, nothing sent). The route did not exist before: every test
 * here fails without it (404 for every POST).
 */
const startedAt = Date.now() - 60_000;
const call = (over: Record<string, unknown> = {}) => ({
  agent: 'triage',
  model: 'gpt-4o',
  started_at: startedAt,
  duration_ms: 812.5,
  input_tokens: 1200,
  output_tokens: 80,
  ...over,
});

describe('POST /v1/agent-events', () => {
  it('takes one call, with the defaults filled in and the tenant of the key, and answers 202 after the ack', async () => {
    const t = routeTestApp();
    const res = await t.a('POST', '/v1/agent-events', call({ attributes: { team: 'support', env: 'prod' }, session_id: 'conv-9' }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1 });
    expect(t.publisher.records('agentEvents')).toEqual([
      {
        event_id: expect.stringMatching(/^[0-9a-f]{32}$/),
        tenant: TEST_TENANTS.a,
        agent: 'triage',
        model: 'gpt-4o',
        provider: '',
        operation: 'chat',
        started_at: startedAt,
        duration_ms: 812.5,
        input_tokens: 1200,
        output_tokens: 80,
        cached_input_tokens: 0,
        cost: null,
        status: 'ok',
        error_type: null,
        session_id: 'conv-9',
        trace_id: '',
        span_id: '',
        source: 'api',
        attributes: { env: 'prod', team: 'support' },
      },
    ]);
    expect(Object.keys(t.publisher.records('agentEvents')[0]!.attributes)).toEqual(['env', 'team']); // sorted, as every map
  });

  it('takes an array as one batch, every optional field mapped', async () => {
    const t = routeTestApp();
    const full = call({
      id: 'req-42',
      provider: 'openai',
      operation: 'embeddings',
      started_at: new Date(startedAt).toISOString(),
      cached_input_tokens: 1000,
      cost: 0.0042,
      status: 'error',
      error: 'rate_limit_exceeded',
      trace_id: '5B8EFFF798038103D269B633813FC60C',
      span_id: 'eee19b7ec3c1b174',
    });
    const res = await t.a('POST', '/v1/agent-events', [call(), full, call({ agent: 'coder' })]);
    expect(await res.json()).toEqual({ accepted: 3 });
    const [, second] = t.publisher.records('agentEvents');
    expect(second).toMatchObject({
      event_id: 'req-42',
      provider: 'openai',
      operation: 'embeddings',
      started_at: startedAt,
      cached_input_tokens: 1000,
      cost: 0.0042,
      status: 'error',
      error_type: 'rate_limit_exceeded',
      trace_id: '5b8efff798038103d269b633813fc60c',
      span_id: 'eee19b7ec3c1b174',
    });
    expect(t.publisher.published).toHaveLength(1); // one publish, one ack
  });

  it('gives a call sent without an id the same id when it is sent again, in any spelling of its time, and another call another id', async () => {
    const t = routeTestApp();
    await t.a('POST', '/v1/agent-events', call({ attributes: { a: '1', b: '2' } }));
    await t.a('POST', '/v1/agent-events', call({ started_at: new Date(startedAt).toISOString(), attributes: { b: '2', a: '1' } }));
    await t.a('POST', '/v1/agent-events', call({ output_tokens: 81, attributes: { a: '1', b: '2' } }));
    await t.b('POST', '/v1/agent-events', call({ attributes: { a: '1', b: '2' } }));
    const [first, retried, other, otherTenant] = t.publisher.records('agentEvents').map((e) => e.event_id);
    expect(retried).toBe(first);
    expect(other).not.toBe(first);
    expect(otherTenant).not.toBe(first);
  });

  it('an error without a status makes the call a failure', async () => {
    const t = routeTestApp();
    expect((await t.a('POST', '/v1/agent-events', call({ error: 'timeout' }))).status).toBe(202);
    expect(t.publisher.records('agentEvents')[0]).toMatchObject({ status: 'error', error_type: 'timeout' });
  });

  it.each([
    ['a missing model', call({ model: undefined }), 'model'],
    ['a misspelt field', call({ input_token: 3 }), ''],
    ['a tenant in the body', call({ tenant: TEST_TENANTS.b }), ''],
    ['negative tokens', call({ output_tokens: -1 }), 'output_tokens'],
    ['fractional tokens', call({ input_tokens: 1.5 }), 'input_tokens'],
    ['more cached than input tokens', call({ cached_input_tokens: 1201 }), 'cached_input_tokens'],
    ['an unknown status', call({ status: 'failed' }), 'status'],
    ['an error on a call with status ok', call({ status: 'ok', error: 'timeout' }), 'error'],
    ['a trace id that is not 32 hex digits', call({ trace_id: 'abc' }), 'trace_id'],
    ['a start older than the retention', call({ started_at: Date.now() - 31 * DAY_MS }), 'started_at'],
    ['a start in seconds', call({ started_at: Math.floor(startedAt / 1000) }), 'started_at'],
    ['a negative duration', call({ duration_ms: -5 }), 'duration_ms'],
    ['a negative cost', call({ cost: -0.01 }), 'cost'],
    ['an attribute that is not a string', call({ attributes: { retries: 3 } }), 'attributes.retries'],
  ])('refuses %s with a 400 naming the item and field, and sends nothing', async (_what, bad, path) => {
    const t = routeTestApp();
    const error = await expectError(await t.a('POST', '/v1/agent-events', [call(), bad]), 400, 'invalid_records');
    expect(error.message).toBe('1 of 2 items are invalid; nothing was written');
    const details = error.details as { index: number; path: string }[];
    expect(details.map((d) => d.index)).toEqual(details.map(() => 1));
    expect(details).toContainEqual(expect.objectContaining({ path }));
    expect(t.publisher.published).toEqual([]);
  });

  it('needs a key, and answers 503 with Retry-After when Kafka does not acknowledge', async () => {
    const t = routeTestApp();
    await expectError(await t.anonymous('POST', '/v1/agent-events', call()), 401, 'unauthorized');
    t.publisher.setDown(true);
    const res = await t.a('POST', '/v1/agent-events', call());
    await expectError(res, 503, 'unavailable');
    expect(res.headers.get('retry-after')).toBe('5');
    expect(t.publisher.published).toEqual([]);
  });
});
