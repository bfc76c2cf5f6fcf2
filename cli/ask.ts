import { parseArgs } from 'node:util';
import type { Config } from '../lib/config.ts';
import { readDevKey } from './dev-keys.ts';
import { readRunFile } from './run-file.ts';

const HELP = `autopilot ask "<question>" [--session ID] [--json]

Asks the ops assistant of a running Autopilot, one shot: a new session (or
--session to go on with one), the steps as they happen on stderr, the answer
on stdout (--json: the answer as the API gives it).

  AUTOPILOT_URL      the gateway (default: the running npm start, else http://localhost:8080)
  AUTOPILOT_API_KEY  the tenant's key (default: npm start's dev key)`;

interface Turn {
  session_id?: string;
  source: string;
  fallback_reason: string | null;
  summary: string;
  findings: { statement: string; evidence: { ref: string; label: string }[]; unsupported: string[] }[];
  next_steps: string[];
  confidence: number;
  duration_ms: number;
  tool_calls: number;
}

/** Through the gateway's API, as any client would: the assistant lives where ClickHouse and the model are reachable. */
export async function askCommand(argv: string[], config: Config, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { session: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const question = positionals.join(' ').trim();
  if (values.help || !question) return void process.stderr.write(`${HELP}\n`);
  const url = env.AUTOPILOT_URL ?? readRunFile(config.dataDir)?.url ?? `http://localhost:${config.port}`;
  const key = env.AUTOPILOT_API_KEY ?? readDevKey(config.dataDir, 'dev-api-key');
  if (!key) throw new Error('set AUTOPILOT_API_KEY to a tenant key (npm start makes a dev key in the data folder)');
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

  let sessionId = values.session;
  if (!sessionId) {
    const res = await fetch(`${url}/v1/assistant/sessions`, { method: 'POST', headers, body: JSON.stringify({ title: question.slice(0, 200) }) });
    if (!res.ok) throw new Error(`creating a session: ${await errorOf(res)}`);
    sessionId = ((await res.json()) as { session_id: string }).session_id;
  }
  const res = await fetch(`${url}/v1/assistant/sessions/${encodeURIComponent(sessionId)}/messages?stream=true`, {
    method: 'POST',
    headers: { ...headers, accept: 'text/event-stream' },
    body: JSON.stringify({ question }),
  });
  if (!res.ok || !res.body) throw new Error(`asking: ${await errorOf(res)}`);
  let turn: Turn | undefined;
  for await (const event of sseEvents(res.body)) {
    if (event.event === 'step') process.stderr.write(`  ${describeStep(JSON.parse(event.data))}\n`);
    else if (event.event === 'error') throw new Error((JSON.parse(event.data) as { error: { message: string } }).error.message);
    else if (event.event === 'answer') turn = JSON.parse(event.data) as Turn;
  }
  if (!turn) throw new Error('the answer stream ended without an answer');
  if (values.json) return void process.stdout.write(`${JSON.stringify({ ...turn, session_id: sessionId })}\n`);
  process.stdout.write(formatTurn(turn, sessionId));
}

function describeStep(s: { kind: string; tool?: string; args?: unknown; ok?: boolean; rows?: number; error?: string | null; duration_ms: number }): string {
  if (s.kind === 'model') return `model ${s.error ? `failed (${s.error})` : 'answered'} in ${s.duration_ms} ms`;
  return `${s.tool}(${JSON.stringify(s.args ?? {})}) → ${s.ok ? `${s.rows} rows` : `error: ${s.error}`} in ${s.duration_ms} ms`;
}

function formatTurn(t: Turn, sessionId: string): string {
  const source =
    t.source === 'llm'
      ? 'answered by the model'
      : t.source === 'rules'
        ? `answered by the rules (the model: ${t.fallback_reason})`
        : `not answered (the model: ${t.fallback_reason})`;
  const lines = [t.summary, ''];
  for (const f of t.findings) {
    lines.push(`• ${f.statement}`);
    for (const e of f.evidence) lines.push(`    ${e.ref}  ${e.label}`);
    for (const ref of f.unsupported) lines.push(`    ${ref}  (no tool returned this)`);
  }
  if (t.next_steps.length) lines.push('', 'Next steps:', ...t.next_steps.map((s) => `  - ${s}`));
  lines.push('', `confidence ${t.confidence}/100, ${source}, ${t.tool_calls} tool calls, ${t.duration_ms} ms — session ${sessionId}`, '');
  return lines.join('\n');
}

async function errorOf(res: Response): Promise<string> {
  const text = await res.text();
  try {
    return (JSON.parse(text) as { error: { message: string } }).error.message;
  } catch {
    return `HTTP ${res.status}: ${text.slice(0, 200)}`;
  }
}

/** Server-sent events from a response body: `event:` and `data:` lines, blank-line separated. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      yield { event, data: data.join('\n') };
      end = buffer.indexOf('\n\n');
    }
  }
}
