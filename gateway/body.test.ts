import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../lib/errors.ts';
import { readJson } from './body.ts';

// Bytes, not a string: for a string body, Request (like fetch) adds text/plain;charset=UTF-8 itself.
const request = (body: string, contentType?: string) =>
  new Request('http://gateway/v1/metrics', {
    method: 'POST',
    body: new TextEncoder().encode(body),
    headers: contentType === undefined ? {} : { 'content-type': contentType },
  });

/** What readJson refuses `req` with: always an AutopilotError (a 4xx), never anything else. */
async function refusal(req: Request): Promise<AutopilotError> {
  const err = await readJson(req).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AutopilotError);
  return err as AutopilotError;
}

/** Before this change readJson read any Content-Type as JSON, and let a `__proto__` key through to be dropped silently. */
describe('readJson', () => {
  it('reads application/json (any charset), +json types, and a body without Content-Type', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json', undefined]) {
      expect(await readJson(request('{"a": 1}', type)), String(type)).toEqual({ a: 1 });
    }
  });

  it('answers 415 for a body that says it is something else: text/plain, form data (curl -d), protobuf', async () => {
    for (const type of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'application/x-protobuf',
      'multipart/form-data; boundary=x',
    ]) {
      const err = await refusal(request('{"a": 1}', type));
      expect(err.code, type).toBe('unsupported_media_type');
      expect(err.status).toBe(415);
      expect(err.message).toMatch(/application\/json/);
    }
  });

  it('refuses a key named __proto__ wherever it is, spelt plainly or with escapes, and says where', async () => {
    const cases: [string, string][] = [
      ['{"__proto__": {"polluted": true}}', ''],
      ['[{"labels": {"service": "a"}}, {"labels": {"__proto__": "x", "service": "b"}}]', '1.labels'],
      ['{"labels": {"\\u005f_proto__": "x"}}', 'labels'],
    ];
    for (const [body, path] of cases) {
      const err = await refusal(request(body, 'application/json'));
      expect(err.status, body).toBe(400);
      expect(err.message).toMatch(/__proto__/);
      expect(err.details).toEqual({ path });
    }
  });

  it('keeps keys that only look special: constructor, toString, and __proto__ as a value', async () => {
    const body = await readJson(request('{"labels": {"constructor": "c", "toString": "t", "note": "__proto__", "service": "\\u00e9"}}', 'application/json'));
    expect(body).toEqual({ labels: { constructor: 'c', toString: 't', note: '__proto__', service: 'é' } });
    expect(Object.hasOwn((body as { labels: object }).labels, 'constructor')).toBe(true);
  });

  it('still says which for an empty or malformed body', async () => {
    expect((await refusal(request('  ', 'application/json'))).message).toMatch(/empty body/);
    expect((await refusal(request('{"a":', 'application/json'))).message).toMatch(/malformed JSON/);
  });
});
