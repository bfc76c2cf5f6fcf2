import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { TOPICS } from '../../../schemas/topics.ts';
import { toAgentEvents } from './genai.ts';
import type { KeyValueMsg, SpanMsg, TracesRequestMsg } from './messages.ts';
import { toSpans } from './traces.ts';

/**
 * GenAI spans (OpenTelemetry GenAI semantic conventions) as agent events,
 * from OTLP messages through traces.ts as the route does. genai.ts did not
 * exist before: every test here fails without it.
 */
const now = Date.UTC(2026, 5, 1, 12);
const NS = 1_000_000;
const bytes = (hexText: string) => new Uint8Array(Buffer.from(hexText, 'hex'));
const str = (key: string, value: string): KeyValueMsg => ({ key, value: { value: 'string_value', string_value: value } as KeyValueMsg['value'] & object });
const int = (key: string, value: number): KeyValueMsg => ({ key, value: { value: 'int_value', int_value: value } as KeyValueMsg['value'] & object });
const double = (key: string, value: number): KeyValueMsg => ({ key, value: { value: 'double_value', double_value: value } as KeyValueMsg['value'] & object });

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';
const start = (now - 60_000) * NS + 250_000; // a quarter ms past a whole ms: started_at floors it
const span = (attributes: KeyValueMsg[], over: Partial<SpanMsg> = {}): SpanMsg => ({
  trace_id: bytes(TRACE),
  span_id: bytes(SPAN),
  trace_state: '',
  parent_span_id: new Uint8Array(0),
  flags: 0,
  name: 'chat gpt-4o',
  kind: 3,
  start_time_unix_nano: start,
  end_time_unix_nano: start + 1_536 * NS,
  attributes,
  events: [],
  links: [],
  status: null,
  ...over,
});
const eventsOf = (spans: SpanMsg[], resource: KeyValueMsg[] = [str('service.name', 'support-bot')]) =>
  toAgentEvents(
    toSpans(
      'acme',
      { resource_spans: [{ resource: { attributes: resource, dropped_attributes_count: 0 }, scope_spans: [{ scope: null, spans }] }] } as TracesRequestMsg,
      now,
    ).spans,
  );

describe('GenAI spans as agent events', () => {
  it('maps the current attribute names, keeps the other gen_ai.* attributes and leaves message content on the span', () => {
    const [event, ...more] = eventsOf([
      span([
        str('gen_ai.operation.name', 'chat'),
        str('gen_ai.provider.name', 'openai'),
        str('gen_ai.request.model', 'gpt-4o'),
        str('gen_ai.response.model', 'gpt-4o-2024-08-06'),
        str('gen_ai.agent.name', 'triage'),
        int('gen_ai.usage.input_tokens', 1200),
        int('gen_ai.usage.output_tokens', 340),
        int('gen_ai.usage.cache_read.input_tokens', 800),
        str('gen_ai.conversation.id', 'conv-17'),
        double('gen_ai.request.temperature', 0.2),
        str('gen_ai.response.finish_reasons', '["stop"]'),
        str('gen_ai.input.messages', '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]'),
        str('gen_ai.output.messages', '[]'),
        str('http.route', '/chat'),
      ]),
    ]);
    expect(more).toEqual([]);
    expect(event).toEqual({
      event_id: `${TRACE}:${SPAN}`,
      tenant: 'acme',
      agent: 'triage',
      model: 'gpt-4o-2024-08-06', // the response's model wins…
      provider: 'openai',
      operation: 'chat',
      started_at: now - 60_000,
      duration_ms: 1536,
      input_tokens: 1200,
      output_tokens: 340,
      cached_input_tokens: 800,
      cost: null,
      status: 'ok',
      error_type: null,
      session_id: 'conv-17',
      trace_id: TRACE,
      span_id: SPAN,
      source: 'otlp',
      attributes: {
        'gen_ai.request.model': 'gpt-4o', // …and the requested one stays known
        'gen_ai.request.temperature': '0.2',
        'gen_ai.response.finish_reasons': '["stop"]',
      },
    });
    // What Kafka will take: the event encodes with the topic's schema.
    expect(() => avro.Type.forSchema(JSON.parse(TOPICS.agentEvents.schema)).toBuffer(event)).not.toThrow();
  });

  it('reads the older names: gen_ai.system, prompt/completion tokens, cache_read_input_tokens; and a reported gen_ai.usage.cost', () => {
    const [event] = eventsOf([
      span([
        str('gen_ai.operation.name', 'text_completion'),
        str('gen_ai.system', 'anthropic'),
        str('gen_ai.request.model', 'claude-3-5-sonnet'),
        int('gen_ai.usage.prompt_tokens', 90),
        int('gen_ai.usage.completion_tokens', 12),
        int('gen_ai.usage.cache_read_input_tokens', 40),
        double('gen_ai.usage.cost', 0.00123),
      ]),
    ]);
    expect(event).toMatchObject({
      provider: 'anthropic',
      model: 'claude-3-5-sonnet',
      operation: 'text_completion',
      input_tokens: 90,
      output_tokens: 12,
      cached_input_tokens: 40,
      cost: 0.00123,
      attributes: {},
    });
  });

  it('prefers the current name when a span carries both spellings', () => {
    const [event] = eventsOf([
      span([
        str('gen_ai.operation.name', 'chat'),
        str('gen_ai.provider.name', 'aws.bedrock'),
        str('gen_ai.system', 'bedrock'),
        int('gen_ai.usage.input_tokens', 5),
        int('gen_ai.usage.prompt_tokens', 6),
      ]),
    ]);
    expect(event).toMatchObject({ provider: 'aws.bedrock', input_tokens: 5 });
  });

  it.each([
    ['error.type', [str('error.type', 'rate_limit_exceeded')], null, 'rate_limit_exceeded'],
    ['span status Error', [], { code: 2, message: 'upstream 500' }, '_OTHER'],
    ['both', [str('error.type', 'timeout')], { code: 2, message: 'deadline' }, 'timeout'],
  ])('a failed call (%s) has status error and an error type', (_what, attributes, status, errorType) => {
    const [event] = eventsOf([span([str('gen_ai.operation.name', 'chat'), ...attributes], { status })]);
    expect([event!.status, event!.error_type]).toEqual(['error', errorType]);
  });

  it('a span status Ok or Unset is a success', () => {
    const events = eventsOf([
      span([str('gen_ai.operation.name', 'chat')], { status: { code: 1, message: '' } }),
      span([str('gen_ai.operation.name', 'chat')], { span_id: bytes('00000000000000aa') }),
    ]);
    expect(events.map((e) => [e.status, e.error_type])).toEqual([
      ['ok', null],
      ['ok', null],
    ]);
  });

  it('without a model or token counts: model and provider empty, counts 0, the agent the resource’s service', () => {
    const [event] = eventsOf(
      [span([str('gen_ai.operation.name', 'execute_tool'), str('gen_ai.tool.name', 'search'), str('gen_ai.usage.output_tokens', 'many')])],
      [str('service.name', 'research-agent')],
    );
    expect(event).toMatchObject({
      agent: 'research-agent',
      model: '',
      provider: '',
      operation: 'execute_tool',
      input_tokens: 0,
      output_tokens: 0, // not a count
      cached_input_tokens: 0,
      cost: null,
      session_id: null,
      attributes: { 'gen_ai.tool.name': 'search' },
    });
  });

  it('leaves spans without gen_ai.operation.name alone, and spans traces.ts refused never become events', () => {
    const events = eventsOf([
      span([str('http.route', '/cart')]),
      span([str('gen_ai.request.model', 'gpt-4o'), int('gen_ai.usage.input_tokens', 3)], { span_id: bytes('00000000000000ab') }),
      span([str('gen_ai.operation.name', 'chat')], { span_id: bytes('0000000000000000') }), // invalid id: refused as a span
      span([str('gen_ai.operation.name', 'chat')], { span_id: bytes('00000000000000ac') }),
    ]);
    expect(events.map((e) => e.event_id)).toEqual([`${TRACE}:00000000000000ac`]);
  });
});
