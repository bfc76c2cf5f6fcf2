import type { z } from 'zod';
import { unreadable } from './snapshot.ts';

/**
 * A JSON status document checked against the little of its shape we read
 * (the rest is the provider's business and may grow), or a run failure
 * naming the first fields that were not what they should be.
 */
export function readJsonBody<T>(text: string, schema: z.ZodType<T>, format: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw unreadable(format, `the body is not JSON (${(err as Error).message})`, { body_start: text.slice(0, 200) });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
  throw unreadable(format, problems.join('; '), { issues: problems });
}
