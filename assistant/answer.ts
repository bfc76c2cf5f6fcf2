import { z } from 'zod';

/**
 * The assistant's answer: a summary, findings each resting on evidence the
 * tools produced (refs such as `incident:<id>`, see tool.ts), next steps, and
 * a confidence. The model is asked for exactly this shape (its JSON Schema as
 * Ollama's `format`), and every answer is checked with it.
 */
export const assistantAnswer = z.strictObject({
  summary: z.string().min(1).max(4000),
  findings: z
    .array(
      z.strictObject({
        statement: z.string().min(1).max(2000),
        evidence: z.array(z.string().min(1).max(300)).max(20),
      }),
    )
    .max(20),
  next_steps: z.array(z.string().min(1).max(1000)).max(10),
  /** 0–100. */
  confidence: z.number().min(0).max(100),
});

export type AssistantAnswer = z.infer<typeof assistantAnswer>;

export const ANSWER_JSON_SCHEMA = z.toJSONSchema(assistantAnswer, { target: 'draft-2020-12' });
