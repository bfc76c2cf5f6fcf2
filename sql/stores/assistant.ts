import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { selectRows } from '../rows.ts';

/**
 * The assistant's sessions and their messages (migrations 0039 and 0040): a session is
 * a ReplacingMergeTree(updated_at) row (a delete is a row with `deleted`), a
 * message a row per turn, numbered within its session. A user's question and
 * the assistant's answer are written together, after the answer: a question
 * that failed leaves no half turn. Every query names the tenant.
 */
export interface AssistantSession {
  session_id: string;
  title: string;
  created_at: number;
  updated_at: number;
}

export interface StoredMessage {
  message_id: string;
  seq: number;
  role: 'user' | 'assistant';
  content: string;
  /** The structured answer (assistant turns). */
  answer: unknown;
  trace: unknown;
  source: string;
  model: string;
  tool_calls: number;
  input_tokens: number;
  output_tokens: number;
  duration_ms: number;
  created_at: number;
}

export type NewMessage = Omit<StoredMessage, 'message_id' | 'seq' | 'created_at'>;

type SessionRow = { session_id: string; title: string; created_at: string; updated_at: string };

export class AssistantStore {
  constructor(private readonly ch: ClickHouseClient) {}

  async createSession(tenant: string, title: string): Promise<AssistantSession> {
    const now = Date.now();
    const session = { session_id: randomUUID(), title, created_at: now, updated_at: now };
    await this.writeSession(tenant, session, false);
    return session;
  }

  async session(tenant: string, sessionId: string): Promise<AssistantSession | undefined> {
    const rows = await selectRows<SessionRow>(
      this.ch,
      `SELECT session_id, title, toUnixTimestamp64Milli(created_at) AS created_at, toUnixTimestamp64Milli(updated_at) AS updated_at
       FROM assistant_sessions FINAL WHERE tenant = {tenant:String} AND session_id = {id:String} AND NOT deleted`,
      { tenant, id: sessionId },
    );
    return rows.map((r) => ({ ...r, created_at: Number(r.created_at), updated_at: Number(r.updated_at) }))[0];
  }

  async deleteSession(tenant: string, session: AssistantSession): Promise<void> {
    await this.writeSession(tenant, { ...session, updated_at: Math.max(Date.now(), session.updated_at + 1) }, true);
  }

  async messageCount(tenant: string, sessionId: string): Promise<number> {
    const [row] = await selectRows<{ n: string }>(
      this.ch,
      'SELECT count() AS n FROM assistant_messages FINAL WHERE tenant = {tenant:String} AND session_id = {id:String}',
      { tenant, id: sessionId },
    );
    return Number(row?.n ?? 0);
  }

  /** The session's messages in order; `last` keeps only the newest that many (the model's history). */
  async messages(tenant: string, sessionId: string, opts: { last?: number } = {}): Promise<StoredMessage[]> {
    const rows = await selectRows<Omit<StoredMessage, 'answer' | 'trace'> & { answer: string; trace: string }>(
      this.ch,
      `SELECT message_id, seq, role, content, answer, trace, source, model, tool_calls, input_tokens, output_tokens, duration_ms,
              toUnixTimestamp64Milli(created_at) AS created_at
       FROM assistant_messages FINAL WHERE tenant = {tenant:String} AND session_id = {id:String}
       ORDER BY seq DESC, message_id LIMIT {limit:UInt32}`,
      { tenant, id: sessionId, limit: opts.last ?? 10_000 },
    );
    return rows.reverse().map((r) => ({
      ...r,
      seq: Number(r.seq),
      created_at: Number(r.created_at),
      answer: r.answer ? JSON.parse(r.answer) : null,
      trace: r.trace ? JSON.parse(r.trace) : [],
    }));
  }

  /** Appends one turn (the question and its answer), numbered after the session's last message, and touches the session. */
  async appendTurn(tenant: string, session: AssistantSession, turn: NewMessage[]): Promise<StoredMessage[]> {
    const [last] = await selectRows<{ seq: string }>(
      this.ch,
      'SELECT max(seq) AS seq FROM assistant_messages FINAL WHERE tenant = {tenant:String} AND session_id = {id:String}',
      { tenant, id: session.session_id },
    );
    const now = Date.now();
    let seq = Number(last?.seq ?? 0);
    const stored = turn.map((m): StoredMessage => ({ ...m, message_id: randomUUID(), seq: ++seq, created_at: now }));
    await this.ch.insert({
      table: 'assistant_messages',
      format: 'JSONEachRow',
      values: stored.map((m) => ({
        ...m,
        tenant,
        session_id: session.session_id,
        answer: m.answer === null ? '' : JSON.stringify(m.answer),
        trace: JSON.stringify(m.trace),
      })),
    });
    await this.writeSession(tenant, { ...session, updated_at: Math.max(now, session.updated_at + 1) }, false);
    return stored;
  }

  private async writeSession(tenant: string, s: AssistantSession, deleted: boolean): Promise<void> {
    await this.ch.insert({ table: 'assistant_sessions', format: 'JSONEachRow', values: [{ tenant, ...s, deleted }] });
  }
}
