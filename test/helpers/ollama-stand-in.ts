import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for Ollama on a loopback port, speaking enough of its API for
 * the ollama client: POST /api/chat and /api/generate (non-streamed: one JSON
 * object; streamed: one NDJSON line with done: true), GET /api/tags and
 * /api/version. Each chat or generate request takes the next behaviour from a
 * scripted queue; with the queue empty it answers 500, so a test that asks
 * more often than it scripted fails loudly. Every request is recorded, so a
 * test can check what was sent (the `format`, the redacted prompt).
 */
export type Behaviour =
  /** A valid answer: `body` is serialised as the message content. */
  | { kind: 'answer'; body: unknown }
  /** Content as given, JSON or not. */
  | { kind: 'text'; content: string }
  /** Waits `ms` before answering with `then` (default: a `{}` content). */
  | { kind: 'slow'; ms: number; then?: Behaviour }
  /** An HTTP error with Ollama's `{"error": ...}` body. */
  | { kind: 'status'; code: number; error?: string }
  /** A chat answer that calls tools (Ollama's `message.tool_calls`), with no content. */
  | { kind: 'tool_calls'; calls: { name: string; arguments: Record<string, unknown> }[] };

export interface RecordedRequest {
  method: string;
  path: string;
  body: Record<string, unknown> | null;
  at: number;
}

export interface OllamaStandIn {
  /** http://127.0.0.1:<port> */
  url: string;
  requests: RecordedRequest[];
  /** Appends behaviours to the queue. */
  script(...behaviours: Behaviour[]): void;
  /** Chat and generate requests received so far. */
  asked(): RecordedRequest[];
  /** Forgets the queue and the recorded requests, between tests. */
  reset(): void;
  close(): Promise<void>;
}

export async function startOllamaStandIn(opts: { model?: string } = {}): Promise<OllamaStandIn> {
  const modelName = opts.model ?? 'stand-in:latest';
  const queue: Behaviour[] = [];
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    let body: Record<string, unknown> | null = null;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
    } catch {
      return sendJson(res, 400, { error: 'invalid JSON body' });
    }
    const path = new URL(req.url ?? '/', 'http://stand-in').pathname;
    requests.push({ method: req.method ?? 'GET', path, body, at: Date.now() });

    if (req.method === 'GET' && path === '/api/tags') {
      return sendJson(res, 200, {
        models: [
          {
            name: modelName,
            model: modelName,
            modified_at: new Date().toISOString(),
            size: 1,
            digest: 'sha256:0',
            details: { format: 'gguf', family: 'stand-in', parameter_size: '1B', quantization_level: 'Q4_0' },
          },
        ],
      });
    }
    if (req.method === 'GET' && path === '/api/version') return sendJson(res, 200, { version: '0.0.0-stand-in' });
    if (req.method !== 'POST' || (path !== '/api/chat' && path !== '/api/generate')) return sendJson(res, 404, { error: `${req.method} ${path} not found` });

    const behave = (b: Behaviour | undefined): void => {
      if (!b) return sendJson(res, 500, { error: 'stand-in: nothing scripted for this request' });
      switch (b.kind) {
        case 'answer':
          return answer(res, path, body, modelName, JSON.stringify(b.body));
        case 'text':
          return answer(res, path, body, modelName, b.content);
        case 'status':
          return sendJson(res, b.code, { error: b.error ?? `stand-in status ${b.code}` });
        case 'tool_calls':
          return answer(res, path, body, modelName, '', b.calls);
        case 'slow': {
          const timer = setTimeout(() => {
            timers.delete(timer);
            if (!res.destroyed) behave(b.then ?? { kind: 'text', content: '{}' });
          }, b.ms);
          timers.add(timer);
          return;
        }
      }
    };
    behave(queue.shift());
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...behaviours) => void queue.push(...behaviours),
    asked: () => requests.filter((r) => r.path === '/api/chat' || r.path === '/api/generate'),
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Ollama's response shapes: `message.content` for chat, `response` for generate; durations in nanoseconds. */
function answer(
  res: ServerResponse,
  path: string,
  req: Record<string, unknown> | null,
  model: string,
  content: string,
  toolCalls?: { name: string; arguments: Record<string, unknown> }[],
): void {
  const common = {
    model: typeof req?.model === 'string' ? req.model : model,
    created_at: new Date().toISOString(),
    done: true,
    done_reason: 'stop',
    total_duration: 1_000_000,
    load_duration: 100_000,
    prompt_eval_count: 10,
    prompt_eval_duration: 200_000,
    eval_count: 20,
    eval_duration: 700_000,
  };
  const message = { role: 'assistant', content, ...(toolCalls ? { tool_calls: toolCalls.map((f) => ({ function: f })) } : {}) };
  const out = path === '/api/chat' ? { ...common, message } : { ...common, response: content, context: [] };
  // Ollama streams unless told not to.
  if (req?.stream === false) return sendJson(res, 200, out);
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  res.end(`${JSON.stringify(out)}\n`);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
