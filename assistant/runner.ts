import { performance } from 'node:perf_hooks';
import { describeError } from '../lib/errors.ts';
import { redact } from '../lib/redact.ts';
import type { Evidence, Tool, ToolContext } from './tool.ts';
import type { TraceStep } from './trace.ts';

/**
 * Runs the model's (or the rules') tool calls within a message's budgets:
 * at most `maxToolCalls` calls, `maxBytes` of results in all, and the
 * message's deadline. Arguments are checked with the tool's schema first. A
 * tool's failure, bad arguments or a spent budget is an answer the model
 * reads (`{error}`), never an exception for the user. Every string in a
 * result is redacted (as the analyst's context is) before anyone sees it.
 */
export interface ToolRunner {
  run(name: string, args: unknown): Promise<{ ok: true; data: unknown; evidence: Evidence[] } | { ok: false; error: string }>;
  readonly trace: TraceStep[];
  /** Every piece of evidence the tools returned, by ref. */
  readonly evidence: Map<string, Evidence>;
  readonly calls: number;
  /** Adds a step that is not a tool call (a model call) to the trace. */
  note(step: TraceStep): void;
}

export function toolRunner(
  tools: readonly Tool[],
  ctx: ToolContext,
  budget: { maxToolCalls: number; maxBytes: number },
  /** Told of each step as it is added: a streamed answer shows them as they happen. */
  onStep?: (step: TraceStep) => void,
): ToolRunner {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const trace: TraceStep[] = [];
  const evidence = new Map<string, Evidence>();
  let calls = 0;
  let bytes = 0;
  const add = (step: TraceStep) => {
    trace.push(step);
    onStep?.(step);
  };
  return {
    trace,
    evidence,
    get calls() {
      return calls;
    },
    note: add,
    async run(name, args) {
      const at = Date.now();
      const started = performance.now();
      const step = (s: Partial<Extract<TraceStep, { kind: 'tool' }>>) =>
        add({
          kind: 'tool',
          at,
          tool: name,
          args,
          duration_ms: Math.round(performance.now() - started),
          ok: false,
          rows: 0,
          truncated: false,
          bytes: 0,
          evidence: [],
          ...s,
        });
      const fail = (error: string) => {
        step({ ok: false, error });
        return { ok: false as const, error };
      };
      const tool = byName.get(name);
      if (!tool) return fail(`no tool named ${name}; the tools are ${[...byName.keys()].join(', ')}`);
      if (calls >= budget.maxToolCalls) return fail(`the budget of ${budget.maxToolCalls} tool calls for this question is spent: answer with what you have`);
      if (ctx.signal.aborted) return fail('the time for this question is up: answer with what you have');
      calls++;
      const parsed = tool.args.safeParse(args ?? {});
      if (!parsed.success)
        return fail(`invalid arguments for ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      let result: Awaited<ReturnType<Tool['run']>>;
      try {
        result = await tool.run(parsed.data, ctx);
      } catch (err) {
        return fail(`${name} failed: ${describeError(err)}`);
      }
      const data = redactDeep(result.data);
      const text = JSON.stringify(data) ?? 'null';
      if (bytes + text.length > budget.maxBytes) {
        return fail(
          `${name} returned ${text.length} bytes, over what is left of this question's ${budget.maxBytes}-byte budget: ask for a narrower range or fewer rows`,
        );
      }
      bytes += text.length;
      for (const e of result.evidence) evidence.set(e.ref, { ref: e.ref, label: redact(e.label) });
      step({ ok: true, rows: result.rows, truncated: result.truncated, bytes: text.length, evidence: result.evidence });
      return { ok: true as const, data, evidence: result.evidence };
    },
  };
}

/** Every string in a JSON value, redacted. */
export function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)]));
  return value;
}
