import type { z } from 'zod';
import { AutopilotError, badRequest } from '../lib/errors.ts';
import { parseMediaType } from './protocols/media-type.ts';

/**
 * The request body as JSON. A Content-Type that says anything but JSON is a
 * 415 (`curl -d` sends application/x-www-form-urlencoded: add
 * `-H 'content-type: application/json'`); a missing one is read as JSON, as
 * nothing claims otherwise. An empty or malformed body is a 400 that says
 * which, and so is a key named `__proto__` (see protoKeyPath).
 */
export async function readJson(req: Request): Promise<unknown> {
  checkJsonContentType(req.headers.get('content-type') ?? undefined);
  const text = await req.text();
  if (text.trim() === '') throw badRequest('empty body: send a JSON object or array');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badRequest(`malformed JSON: ${(err as Error).message}`);
  }
  // Only a body that could spell the key (plainly or with \u escapes) is walked.
  const path = text.includes('__proto__') || text.includes('\\u') ? protoKeyPath(value) : undefined;
  if (path !== undefined) {
    throw badRequest(`a key named __proto__ (at ${path || 'the top level'}) cannot be kept: JavaScript objects would silently lose it; rename it`, { path });
  }
  return value;
}

/** application/json, or any `+json` type; parameters (charset) are not read. */
function checkJsonContentType(header: string | undefined): void {
  const media = parseMediaType(header);
  if (media === undefined || media.type === 'application/json' || /^application\/[^/]+\+json$/.test(media.type)) return;
  throw new AutopilotError('unsupported_media_type', `Content-Type ${media.type} is not read here: send the body as application/json`);
}

/**
 * Where an object key `__proto__` is (dotted path, '' for the top level),
 * or undefined. JSON.parse keeps such a key as data, but nothing
 * after it does: zod drops it from records, an assignment sets the
 * prototype instead, and Avro maps are rebuilt that way in the processors.
 * Refusing it is the only answer that does not lose it silently.
 */
function protoKeyPath(root: unknown): string | undefined {
  const pending: { value: unknown; path: string }[] = [{ value: root, path: '' }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path } = next;
    if (value === null || typeof value !== 'object') continue;
    const at = (key: string) => (path ? `${path}.${key}` : key);
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) pending.push({ value: item, path: at(String(i)) });
      continue;
    }
    if (Object.hasOwn(value, '__proto__')) return path;
    for (const [key, item] of Object.entries(value)) pending.push({ value: item, path: at(key) });
  }
  return undefined;
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
