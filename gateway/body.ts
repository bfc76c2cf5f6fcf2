import type { z } from 'zod';
import { AutopilotError, badRequest } from '../lib/errors.ts';

/** The request body as JSON; an empty or malformed body is a 400 that says which. */
export async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === '') throw badRequest('empty body: send a JSON object or array');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`malformed JSON: ${(err as Error).message}`);
  }
}

/** `value` checked against `schema`; what is wrong, field by field, in `details`. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.slice(0, 100).map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new AutopilotError('bad_request', `invalid ${what}: ${details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}`, { details });
}

/** A JSON body checked against `schema`. */
export async function readBody<S extends z.ZodType>(req: Request, schema: S, what: string): Promise<z.output<S>> {
  return parseWith(schema, await readJson(req), what);
}

/** The raw request body; an empty one is a 400 (remote-write and Loki bodies are never empty). */
export async function readBytes(req: Request): Promise<Uint8Array> {
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (bytes.length === 0) throw badRequest('empty body');
  return bytes;
}
