import type { Message } from 'ollama';
import { z } from 'zod';
import type { Tool } from './tool.ts';

/** Earlier turns of the session, as the model sees them: the question and the answer's summary. */
export interface Turn {
  question: string;
  summary: string;
}

const SYSTEM = `You are Autopilot's ops assistant. An on-call engineer asks about their services; you answer from Autopilot's own data: metrics and their percentiles, anomalies, incidents and their analyses, logs, deployments, alerts, third-party status pages.

How to work:
- Call the tools to look things up. Never guess a number, a time, a version or an id: look it up.
- Every tool result carries "evidence": refs such as "incident:…", "deployment:checkout:v2.4.0", "series:checkout:http_request_duration_ms". A finding cites the refs it rests on, exactly as given.
- Times are UTC. "Now" is {now}.
- When you have enough, stop calling tools and answer with one JSON object: {"summary": "…", "findings": [{"statement": "…", "evidence": ["<ref>", …]}], "next_steps": ["…"], "confidence": 0-100}.
- If the data does not answer the question, say so in the summary, with a low confidence.`;

export function messagesFor(question: string, history: readonly Turn[], now: number): Message[] {
  return [
    { role: 'system', content: SYSTEM.replace('{now}', new Date(now).toISOString()) },
    ...history.flatMap((t): Message[] => [
      { role: 'user', content: t.question },
      { role: 'assistant', content: t.summary },
    ]),
    { role: 'user', content: question },
  ];
}

/** The tools as Ollama's `tools`: name, description, and the arguments' JSON Schema. */
export function toolSpecs(tools: readonly Tool[]) {
  return tools.map((t) => {
    const { $schema: _, ...parameters } = z.toJSONSchema(t.args, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    return { type: 'function', function: { name: t.name, description: t.description, parameters } };
  });
}

export const FINAL_ANSWER_REQUEST =
  'Give your final answer now, as one JSON object of the schema you were given: summary, findings (each with the evidence refs it rests on), next_steps, confidence.';
