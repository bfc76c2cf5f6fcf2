import { z } from 'zod';
import { ollamaHost, variablesWithPrefix } from '../lib/config.ts';

/**
 * The assistant's settings: ASSISTANT_* variables (unknown ones refused) and
 * OLLAMA_HOST. The budgets bound one message: a question cannot make the
 * gateway read unbounded data or wait on the model forever.
 */
const schema = z.strictObject({
  ASSISTANT_MODEL: z.string().min(1).default('llama3.2:3b'),
  /** The whole message: planning, tools and the answer; past it the rules answer what they can. */
  ASSISTANT_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
  ASSISTANT_MAX_TOOL_CALLS: z.coerce.number().int().min(1).max(50).default(8),
  /** Rows one tool call may return. */
  ASSISTANT_MAX_ROWS: z.coerce.number().int().min(1).max(10_000).default(200),
  /** Bytes of tool results given to the model in one message, all calls together. */
  ASSISTANT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(64 * 1024),
  /** Earlier turns of the session in the model's context. */
  ASSISTANT_HISTORY_TURNS: z.coerce.number().int().min(0).max(50).default(6),
  /** GitHub for the outside tool: token, API URL and `service=owner/repo,…`; the tool is offered only with a token. */
  ASSISTANT_GITHUB_TOKEN: z.string().min(1).optional(),
  ASSISTANT_GITHUB_API_URL: z.string().url().default('https://api.github.com'),
  ASSISTANT_GITHUB_REPOS: z.string().default(''),
});

export interface AssistantConfig {
  ollamaHost: string;
  model: string;
  timeoutMs: number;
  maxToolCalls: number;
  maxRows: number;
  maxBytes: number;
  historyTurns: number;
  github?: { token: string; apiUrl: string; repos: Record<string, string> };
}

export function assistantConfig(env: NodeJS.ProcessEnv = process.env): AssistantConfig {
  const c = schema.parse(variablesWithPrefix(env, 'ASSISTANT_'));
  const repos = Object.fromEntries(
    c.ASSISTANT_GITHUB_REPOS.split(',')
      .map((pair) => pair.trim().split('='))
      .filter((kv): kv is [string, string] => kv.length === 2 && Boolean(kv[0]) && /^[\w.-]+\/[\w.-]+$/.test(kv[1] ?? '')),
  );
  return {
    ollamaHost: ollamaHost(env),
    model: c.ASSISTANT_MODEL,
    timeoutMs: c.ASSISTANT_TIMEOUT_MS,
    maxToolCalls: c.ASSISTANT_MAX_TOOL_CALLS,
    maxRows: c.ASSISTANT_MAX_ROWS,
    maxBytes: c.ASSISTANT_MAX_BYTES,
    historyTurns: c.ASSISTANT_HISTORY_TURNS,
    ...(c.ASSISTANT_GITHUB_TOKEN ? { github: { token: c.ASSISTANT_GITHUB_TOKEN, apiUrl: c.ASSISTANT_GITHUB_API_URL, repos } } : {}),
  };
}
