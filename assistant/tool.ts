import type { ClickHouseClient } from '@clickhouse/client';
import type { z } from 'zod';

/**
 * What the assistant can look at, as typed functions the model may call.
 * A tool's arguments are a zod schema (shown to the model as JSON Schema and
 * checked before the call); the tenant is never an argument: it comes from
 * the caller's API key through `ToolContext`, and every query a tool runs
 * names it, so no question reaches another tenant's data. Tools read; none
 * writes, and none takes SQL from the model.
 */
export interface ToolContext {
  tenant: string;
  ch: ClickHouseClient;
  /** "Now" for relative ranges (last hour), fixed per message so every tool agrees. */
  now: number;
  /** Rows one call may return; a tool asks for one more to say it was cut. */
  maxRows: number;
  signal: AbortSignal;
  /** Outside tools (GitHub) when configured. */
  github?: GitHubAccess;
}

export interface GitHubAccess {
  /** https://api.github.com, or a stand-in. */
  apiUrl: string;
  token: string;
  /** service → owner/repo. */
  repos: Record<string, string>;
  fetch: (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<{ status: number; text(): Promise<string> }>;
}

/**
 * What a result rests on, for findings to cite: `<kind>:<id>`, e.g.
 * `incident:9f2c…`, `deployment:checkout:v2.4.0`, `series:checkout:http_request_duration_ms`,
 * `anomaly:<id>`, `alert:<fingerprint>`, `logs:checkout:error`, `status:Stripe:API`, `commit:<sha>`.
 */
export interface Evidence {
  ref: string;
  /** One line a person reads: "incident on checkout, critical, opened 14:02". */
  label: string;
}

export interface ToolResult {
  /** JSON-serialisable: what the model reads. */
  data: unknown;
  /** Rows (items) in `data`. */
  rows: number;
  /** True when there was more than `maxRows`. */
  truncated: boolean;
  evidence: Evidence[];
}

export interface Tool<A extends z.ZodType = z.ZodType> {
  /** snake_case, as the model calls it. */
  name: string;
  /** What it answers and when to use it, for the model. */
  description: string;
  args: A;
  run(args: z.output<A>, ctx: ToolContext): Promise<ToolResult>;
}

/** A tool as a list entry; `defineTool` keeps the args type for `run`. */
export const defineTool = <A extends z.ZodType>(tool: Tool<A>): Tool => tool as unknown as Tool;
