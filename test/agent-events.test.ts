import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS, type AgentCall, type AgentEvent } from '../schemas/topics.ts';
import { eventually, listen, startTestPipeline, topicEnd, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Agent events on the real stack (Kafka, the schema registry, the sink into
 * chdb): POST /v1/agent-events and GenAI spans exported by the OpenTelemetry
 * JS SDK both land on autopilot.agent-events (read back with a consumer and
 * decoded by the registry's schema), and priced calls on
 * autopilot.agent-calls land in agent_calls once each. Before this change
 * there was no route, no span conversion, no table and no sink entry: every
 * test here fails on the code before it.
 */
let p: TestPipeline;
let url: string;
let close: () => Promise<void>;
let consumer: Consumer;
/** Every agent event of this file's tenants seen on the topic so far. */
const seen: AgentEvent[] = [];

beforeAll(async () => {
  p = await startTestPipeline('agent-events', { processors: ['sink'] });
  ({ url, close } = await listen(p.app));
  consumer = p.services.kafka.consumer({ groupId: `agent-events-reader-${p.tenants.a}` });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.agentEvents.topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = (await p.services.catalog.decode(message.value!)) as AgentEvent;
      if (event.tenant === p.tenants.a || event.tenant === p.tenants.b) seen.push(event);
    },
  });
}, 120_000);
afterAll(async () => {
  await consumer?.disconnect();
  await close?.();
  await p?.stop();
});

const eventsWhere = (match: (e: AgentEvent) => boolean, n: number) =>
  eventually(
    async () => seen.filter(match),
    (list) => list.length >= n,
    60_000,
  );

describe('POST /v1/agent-events', () => {
  it('is answered 202 after the ack, and every call is on autopilot.agent-events as the schema decodes it', async () => {
    const startedAt = Date.now() - 30_000;
    const calls = [
      { agent: 'api-triage', model: 'gpt-4o', provider: 'openai', started_at: startedAt, duration_ms: 640, input_tokens: 900, output_tokens: 55, cost: 0.003 },
      {
        id: 'call-2',
        agent: 'api-triage',
        model: 'claude-sonnet-4',
        started_at: new Date(startedAt + 1000).toISOString(),
        duration_ms: 1210.5,
        input_tokens: 2000,
        output_tokens: 410,
        cached_input_tokens: 1500,
        error: 'overloaded',
        session_id: 'conv-1',
        attributes: { team: 'support' },
      },
    ];
    const res = await p.post('/v1/agent-events', calls);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });

    const events = await eventsWhere((e) => e.agent === 'api-triage', 2);
    expect(events).toHaveLength(2);
    const byModel = Object.fromEntries(events.map((e) => [e.model, { ...e }]));
    expect(byModel['gpt-4o']).toEqual({
      event_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      tenant: p.tenants.a,
      agent: 'api-triage',
      model: 'gpt-4o',
      provider: 'openai',
      operation: 'chat',
      started_at: startedAt,
      duration_ms: 640,
      input_tokens: 900,
      output_tokens: 55,
      cached_input_tokens: 0,
      cost: 0.003,
      status: 'ok',
      error_type: null,
      session_id: null,
      trace_id: '',
      span_id: '',
      source: 'api',
      attributes: {},
    });
    expect(byModel['claude-sonnet-4']).toMatchObject({
      event_id: 'call-2',
      started_at: startedAt + 1000,
      cached_input_tokens: 1500,
      cost: null,
      status: 'error',
      error_type: 'overloaded',
      session_id: 'conv-1',
      attributes: { team: 'support' },
    });
  });

  it('refuses bad input with a 400 that names the item, and puts nothing on the topic', async () => {
    const before = await topicEnd(p.services.kafka, TOPICS.agentEvents.topic);
    const good = { agent: 'api-refused', model: 'gpt-4o', started_at: Date.now(), duration_ms: 5, input_tokens: 1, output_tokens: 1 };
    const res = await p.post('/v1/agent-events', [good, { ...good, input_tokens: -3 }]);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; details: { index: number; path: string }[] } };
    expect(body.error.code).toBe('invalid_records');
    expect(body.error.details).toEqual([expect.objectContaining({ index: 1, path: 'input_tokens' })]);
    expect(await topicEnd(p.services.kafka, TOPICS.agentEvents.topic)).toBe(before);
    expect(seen.filter((e) => e.agent === 'api-refused')).toEqual([]);
  });
});

describe('GenAI spans from the OpenTelemetry SDK', () => {
  it('3 agents × 2 models: each call an agent event with its agent, model, tokens and status, and each span still in `spans`', async () => {
    const resource = resourceFromAttributes({ 'service.name': 'agents-app' });
    const provider = new TracerProvider({
      resource,
      spanProcessors: [
        new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${url}/otlp/v1/traces`, headers: { authorization: `Bearer ${p.keys.a}` } }) }),
      ],
    });
    const tracer = provider.getTracer('genai-test', '1.0.0');
    const agents = ['planner', 'coder', 'reviewer'];
    const models = ['gpt-4o', 'claude-sonnet-4'];
    const perPair = 4;
    const base = Date.now() - 120_000;
    // [agent, model, input, output, failed, duration ms] for every call sent
    const sent: [string, string, number, number, boolean, number][] = [];
    let n = 0;
    for (const agent of agents) {
      for (const model of models) {
        for (let i = 0; i < perPair; i++) {
          const input = 100 * (n + 1);
          const output = 10 + n;
          const failed = i === 3 && agent !== 'coder';
          const duration = 200 + 25 * n;
          const start = base + n * 1000;
          const span = tracer.startSpan(`chat ${model}`, {
            kind: SpanKind.CLIENT,
            startTime: start,
            attributes: {
              'gen_ai.operation.name': 'chat',
              'gen_ai.provider.name': model.startsWith('gpt') ? 'openai' : 'anthropic',
              'gen_ai.request.model': model,
              'gen_ai.agent.name': agent,
              'gen_ai.usage.input_tokens': input,
              'gen_ai.usage.output_tokens': output,
              'gen_ai.conversation.id': `${agent}-session`,
            },
          });
          if (failed) {
            span.setAttribute('error.type', 'rate_limit');
            span.setStatus({ code: SpanStatusCode.ERROR, message: '429 from the provider' });
          }
          span.end(start + duration);
          sent.push([agent, model, input, output, failed, duration]);
          n++;
        }
      }
    }
    // A span of the same app that is not a GenAI call: a span, never an event.
    tracer.startSpan('GET /health', { kind: SpanKind.SERVER }).end();
    await provider.shutdown();

    const events = await eventsWhere((e) => e.source === 'otlp' && agents.includes(e.agent), sent.length);
    expect(events).toHaveLength(sent.length);
    const got = events
      .map((e): [string, string, number, number, boolean, number] => [e.agent, e.model, e.input_tokens, e.output_tokens, e.status === 'error', e.duration_ms])
      .sort((a, b) => a[2] - b[2]);
    expect(got.map(([a, m, i, o, f]) => [a, m, i, o, f])).toEqual(sent.map(([a, m, i, o, f]) => [a, m, i, o, f]));
    for (const [k, [, , , , , duration]] of got.entries()) expect(duration).toBeCloseTo(sent[k]![5], 3);
    for (const e of events) {
      expect(e.event_id).toBe(`${e.trace_id}:${e.span_id}`);
      expect(e).toMatchObject({
        tenant: p.tenants.a,
        operation: 'chat',
        session_id: `${e.agent}-session`,
        error_type: e.status === 'error' ? 'rate_limit' : null,
      });
      expect(e.provider).toBe(e.model.startsWith('gpt') ? 'openai' : 'anthropic');
    }
    expect(events.filter((e) => e.status === 'error')).toHaveLength(4); // planner and reviewer, one failure per model

    // The spans themselves, the health check among them, are written as before.
    await eventually(
      async () =>
        Number(
          (await p.rows<{ n: string }>("SELECT count() AS n FROM spans FINAL WHERE tenant = {t:String} AND service = 'agents-app'", { t: p.tenants.a }))[0]!.n,
        ),
      (c) => c === sent.length + 1,
      60_000,
    );
  });
});

/**
 * Publishes priced calls, then waits until the sink has committed past every
 * record written (it commits a record only after its row is in). Counting
 * rows instead would not do: a merge may fold the copies at any time.
 */
async function publishedAndWritten(calls: AgentCall[]): Promise<void> {
  const admin = p.services.kafka.admin();
  await admin.connect();
  try {
    const topic = TOPICS.agentCalls.topic;
    const before = await admin.fetchTopicOffsets(topic);
    await p.publisher.publish('agentCalls', calls);
    const ends = (await admin.fetchTopicOffsets(topic)).filter((e) => e.high !== before.find((b) => b.partition === e.partition)?.high);
    await eventually(
      async () => (await admin.fetchOffsets({ groupId: `${p.config.groupPrefix}-sink`, topics: [topic] }))[0]!.partitions,
      (committed) => ends.every((e) => BigInt(committed.find((c) => c.partition === e.partition)?.offset ?? '-1') >= BigInt(e.high)),
      50_000,
    );
  } finally {
    await admin.disconnect();
  }
}

describe('agent_calls', () => {
  it('holds every priced call from autopilot.agent-calls once, also when the records are published again', async () => {
    const startedAt = Date.now() - 10 * 60_000;
    const calls: AgentCall[] = Array.from(
      { length: 12 },
      (_, i): AgentCall => ({
        event_id: `call-${i}`,
        tenant: p.tenants.b,
        agent: ['planner', 'coder', 'reviewer'][i % 3]!,
        model: i % 2 ? 'gpt-4o' : 'claude-sonnet-4',
        provider: i % 2 ? 'openai' : 'anthropic',
        operation: 'chat',
        started_at: startedAt + i * 1000,
        duration_ms: 100.25 + i,
        input_tokens: 1000 + i,
        output_tokens: 50 + i,
        cached_input_tokens: i,
        status: i % 5 === 0 ? 'error' : 'ok',
        error_type: i % 5 === 0 ? 'timeout' : null,
        session_id: i % 4 === 0 ? null : `s-${i}`,
        trace_id: i % 2 ? '' : `${'0'.repeat(30)}${i.toString(16).padStart(2, '0')}`,
        span_id: i % 2 ? '' : `${'0'.repeat(14)}${i.toString(16).padStart(2, '0')}`,
        source: i % 2 ? 'api' : 'otlp',
        attributes: i === 0 ? { 'gen_ai.request.temperature': '0.2', team: 'search' } : {},
        cost: i === 11 ? null : 0.001 * (i + 1),
        cost_source: i === 11 ? 'unknown' : i % 2 ? 'event' : 'price_table',
        price_version: i % 2 ? 0 : 3,
      }),
    );
    const count = async (final: string) =>
      Number((await p.rows<{ n: string }>(`SELECT count() AS n FROM agent_calls ${final} WHERE tenant = {t:String}`, { t: p.tenants.b }))[0]!.n);
    await publishedAndWritten(calls);
    expect(await count('FINAL')).toBe(calls.length);
    // The same calls again (new records, new offsets), as a replay or the processor's retry writes them: the same rows.
    await publishedAndWritten(calls);
    expect(await count('FINAL')).toBe(calls.length);

    const rows = await p.rows<Record<string, unknown>>(
      `SELECT event_id, agent, model, provider, operation, toUnixTimestamp64Milli(started_at) AS started_at, duration_ms,
              input_tokens, output_tokens, cached_input_tokens, status, error_type, session_id, trace_id, span_id, source,
              attributes, cost, cost_source, price_version
       FROM agent_calls FINAL WHERE tenant = {t:String} ORDER BY started_at`,
      { t: p.tenants.b },
    );
    expect(rows).toEqual(calls.map(({ tenant: _, ...c }) => c));
    // The SQL an SRE writes: planner's calls 0, 3, 6 and 9, call 0 failed.
    const [stats] = await p.rows<{ calls: string; errors: string; cost: number }>(
      "SELECT count() AS calls, countIf(status = 'error') AS errors, sum(cost) AS cost FROM agent_calls FINAL WHERE tenant = {t:String} AND agent = 'planner'",
      { t: p.tenants.b },
    );
    expect([Number(stats!.calls), Number(stats!.errors)]).toEqual([4, 1]);
    expect(stats!.cost).toBeCloseTo(0.001 * (1 + 4 + 7 + 10), 9);
  });
});
