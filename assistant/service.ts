import type { ClickHouseClient } from '@clickhouse/client';
import type { ModelCall } from '../lib/model-calls.ts';
import { ask, type AskInput, type AssistantReply } from './ask.ts';
import type { AssistantConfig } from './config.ts';
import type { GitHubAccess } from './tool.ts';
import { toolsFor } from './tools/index.ts';

/** The assistant as the gateway (and `autopilot ask`, through the gateway) uses it. */
export interface Assistant {
  ask(input: AskInput): Promise<AssistantReply>;
  /** Earlier turns kept in the model's context. */
  historyTurns: number;
}

export function createAssistant(
  ch: ClickHouseClient,
  config: AssistantConfig,
  opts: { onModelCall?: (tenant: string, call: ModelCall) => void } = {},
): Assistant {
  const github: GitHubAccess | undefined = config.github && {
    ...config.github,
    fetch: (url, init) => fetch(url, { ...init, redirect: 'error' }),
  };
  const tools = toolsFor({ github });
  return {
    historyTurns: config.historyTurns,
    ask: (input) => ask(input, { ch, config, tools, github, onModelCall: opts.onModelCall }),
  };
}
