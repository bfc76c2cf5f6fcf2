import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { AssistantReply } from '../../assistant/ask.ts';
import { AutopilotError, unavailable } from '../../lib/errors.ts';
import type { AssistantSession, StoredMessage } from '../../sql/stores/assistant.ts';
import { parseWith, readJson } from '../body.ts';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores } from '../stores.ts';

/**
 * The ops assistant: a tenant's sessions, each a conversation kept in
 * ClickHouse. A question is answered in the response (or, asked with
 * `Accept: text/event-stream` or `?stream=true`, as server-sent events: each
 * step as it happens, then the answer). Earlier turns of the session are in
 * the model's context, the newest ASSISTANT_HISTORY_TURNS of them.
 */
const sessionBody = z.strictObject({ title: z.string().trim().max(200).optional() });
const questionBody = z.strictObject({ question: z.string().trim().min(1, 'must not be empty').max(4000) });

export function assistantRoutes(deps: Pick<GatewayDeps, 'stores' | 'assistant'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  const store = () => requireStores(deps.stores).assistant;
  const assistant = () => {
    if (!deps.assistant)
      throw unavailable('the assistant reads ClickHouse: run the gateway with the processors (npm start) or set CLICKHOUSE_URL', undefined, 30);
    return deps.assistant;
  };
  const found = async (tenant: string, id: string) => {
    const session = await store().session(tenant, id);
    if (!session) throw new AutopilotError('not_found', `no assistant session ${id}`);
    return session;
  };
  /** One turn at a time per session in this process, so turns are numbered in order. */
  const turns = new Map<string, Promise<unknown>>();

  app.post('/v1/assistant/sessions', async (c) => {
    const raw = await c.req.text();
    const body = parseWith(sessionBody, raw.trim() === '' ? {} : JSON.parse(raw), 'body');
    const session = await store().createSession(c.get('tenant'), body.title ?? '');
    return c.json(session, 201);
  });

  app.get('/v1/assistant/sessions/:id', async (c) => {
    const tenant = c.get('tenant');
    const session = await found(tenant, c.req.param('id'));
    return c.json({ ...session, messages: await store().messageCount(tenant, session.session_id) });
  });

  app.delete('/v1/assistant/sessions/:id', async (c) => {
    const tenant = c.get('tenant');
    await store().deleteSession(tenant, await found(tenant, c.req.param('id')));
    return c.body(null, 204);
  });

  app.get('/v1/assistant/sessions/:id/messages', async (c) => {
    const tenant = c.get('tenant');
    const session = await found(tenant, c.req.param('id'));
    return c.json({ items: await store().messages(tenant, session.session_id) });
  });

  app.post('/v1/assistant/sessions/:id/messages', async (c) => {
    const tenant = c.get('tenant');
    const session = await found(tenant, c.req.param('id'));
    const { question } = parseWith(questionBody, await readJson(c.req.raw), 'body');
    const history = await historyOf(tenant, session);
    const answerTurn = async (onStep?: Parameters<NonNullable<typeof deps.assistant>['ask']>[0]['onStep']) => {
      const previous = turns.get(session.session_id) ?? Promise.resolve();
      const turn = previous
        .catch(() => undefined)
        .then(async () => {
          const reply = await assistant().ask({ tenant, question, history, onStep });
          const [asked, answered] = await store().appendTurn(tenant, session, [questionMessage(question), answerMessage(reply)]);
          return { question: asked!, answer: answered!, reply };
        });
      turns.set(session.session_id, turn);
      try {
        return await turn;
      } finally {
        if (turns.get(session.session_id) === turn) turns.delete(session.session_id);
      }
    };

    const wantsStream = c.req.query('stream') === 'true' || (c.req.header('accept') ?? '').includes('text/event-stream');
    if (!wantsStream) {
      const { answer, reply } = await answerTurn();
      return c.json(presentTurn(answer, reply));
    }
    return streamSSE(c, async (stream) => {
      try {
        const { answer, reply } = await answerTurn((step) => void stream.writeSSE({ event: 'step', data: JSON.stringify(step) }));
        await stream.writeSSE({ event: 'answer', data: JSON.stringify(presentTurn(answer, reply)) });
      } catch (err) {
        const e = err instanceof AutopilotError ? err : new AutopilotError('internal', 'the question could not be answered');
        await stream.writeSSE({ event: 'error', data: JSON.stringify({ error: { code: e.code, message: e.message } }) });
      }
    });
  });

  async function historyOf(tenant: string, session: AssistantSession) {
    const turnsWanted = deps.assistant?.historyTurns ?? 0;
    if (turnsWanted === 0) return [];
    const messages = await store().messages(tenant, session.session_id, { last: 2 * turnsWanted });
    const history: { question: string; summary: string }[] = [];
    for (let i = 0; i + 1 < messages.length; i++) {
      if (messages[i]!.role === 'user' && messages[i + 1]!.role === 'assistant')
        history.push({ question: messages[i]!.content, summary: messages[i + 1]!.content });
    }
    return history;
  }

  return app;
}

const questionMessage = (question: string) => ({
  role: 'user' as const,
  content: question,
  answer: null,
  trace: [],
  source: '',
  model: '',
  tool_calls: 0,
  input_tokens: 0,
  output_tokens: 0,
  duration_ms: 0,
});

const answerMessage = (r: AssistantReply) => ({
  role: 'assistant' as const,
  content: r.answer.summary,
  answer: { ...r.answer, fallback_reason: r.fallback_reason },
  trace: r.trace,
  source: r.source,
  model: r.model ?? '',
  tool_calls: r.tool_calls,
  input_tokens: r.input_tokens,
  output_tokens: r.output_tokens,
  duration_ms: r.duration_ms,
});

/** The answered turn as the API gives it back. */
function presentTurn(m: StoredMessage, r: AssistantReply) {
  return {
    message_id: m.message_id,
    seq: m.seq,
    source: r.source,
    model: r.model,
    fallback_reason: r.fallback_reason,
    ...r.answer,
    trace: r.trace,
    tool_calls: r.tool_calls,
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    duration_ms: r.duration_ms,
    created_at: m.created_at,
  };
}
