import { fillTemplate } from '../../../lib/template.ts';
import type { Action } from '../../../tenant-config/actions.ts';

/**
 * One HTTP call an action makes, built from the stored action and the
 * proposal's variables by the kind's client (a pure function); run-action.ts
 * checks its URL, sends it, and reads the answer. Keeping the building apart
 * from the sending puts the guard, the secrets' redaction and the error
 * handling in one place for every kind.
 */
export interface OutgoingRequest {
  method: 'POST' | 'PATCH';
  url: string;
  /** Lower-case names. Idempotency-Key and User-Agent are added by run-action for every kind. */
  headers: Record<string, string>;
  /** '' for a call without a body (sent with Content-Length: 0). */
  body: string;
  /** The one status that means done (GitHub's dispatch answers 204); any 2xx when not set. */
  expectStatus?: number;
}

/** An action's secrets, opened for this one call and dropped after it. */
export type OpenSecrets = Partial<Record<keyof Action['sealed'], string>>;

/** What a client needs besides the action: variables, open secrets, and the time (a restart annotation, a signature's timestamp). */
export interface BuildContext {
  vars: Record<string, string>;
  secrets: OpenSecrets;
  now: number;
}

/**
 * The action cannot be run as stored with these variables (a placeholder
 * without a value, a path segment that is empty or a dot segment, a secret
 * that does not open): the run fails with this message, nothing is sent.
 * Anything else thrown while building is a programming error and propagates.
 */
export class UnusableAction extends Error {
  override readonly name = 'UnusableAction';
}

/** `fillTemplate`, its missing-variable error as an UnusableAction. */
export function fill(text: string, vars: Record<string, string>): string {
  try {
    return fillTemplate(text, vars);
  } catch (err) {
    throw new UnusableAction((err as Error).message);
  }
}

/** Every value of a templated map filled. */
export function fillAll(map: Record<string, string>, vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, fill(v, vars)]));
}

/**
 * A tag for an API path under `base` (an api_url, which may carry a path
 * prefix such as GitHub Enterprise's /api/v3): each interpolated value
 * becomes one encoded segment, so a deployment named `web/../../secrets?x`
 * stays one segment, never a walk to another resource. A value that is empty
 * or a dot segment ("." or "..", which URL parsing resolves even when
 * encoded) is refused.
 *
 *     apiUrl(a.api_url)`/containers/${name}/restart`
 */
export function apiUrl(base: string): (strings: TemplateStringsArray, ...values: string[]) => string {
  return (strings, ...values) => {
    let path = strings[0]!;
    values.forEach((value, i) => {
      if (value === '' || value === '.' || value === '..') throw new UnusableAction(`${JSON.stringify(value)} cannot be a name in a URL path`);
      path += encodeURIComponent(value) + strings[i + 1]!;
    });
    return base.replace(/\/+$/, '') + path;
  };
}
