import type { Evidence } from './tool.ts';

/** One step of a message's work, as the API shows it and the session keeps it. */
export type TraceStep =
  | { kind: 'model'; at: number; duration_ms: number; input_tokens: number; output_tokens: number; error: string | null }
  | {
      kind: 'tool';
      at: number;
      tool: string;
      args: unknown;
      duration_ms: number;
      ok: boolean;
      /** What the tool said went wrong (shown to the model, not thrown to the user). */
      error?: string;
      rows: number;
      truncated: boolean;
      bytes: number;
      evidence: Evidence[];
    };
