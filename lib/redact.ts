import { isIPv6 } from 'node:net';

/**
 * Takes secrets and personal data out of text before it reaches a model or a
 * notification: log lines and alert texts are written by anyone, and they leak
 * tokens, connection strings and addresses. Each find becomes
 * `[REDACTED:<kind>]`; for `key=value` pairs only the value goes, so the model
 * still sees that a password was involved.
 *
 * Rules run in order, most specific first, so a JWT inside a bearer header is
 * named a jwt and a password inside a URL is not mistaken for an e-mail. A
 * replacement never matches a later rule. Erring on the side of redacting is
 * cheap (the model loses one token), but ordinary prose, versions (1.2.3),
 * times (12:30:45), UUIDs, commit hashes and trace ids are left alone: they are
 * what an incident is analysed with.
 */
const REDACTION_KINDS = ['private_key', 'jwt', 'token', 'credential', 'aws_key', 'secret', 'email', 'ip'] as const;
type RedactionKind = (typeof REDACTION_KINDS)[number];

const mark = (kind: RedactionKind) => `[REDACTED:${kind}]`;

type Rule = { kind: RedactionKind; pattern: RegExp; replace: (match: string, ...groups: string[]) => string };

/** Keys whose value is a secret: the key ends with one of these words (db_password, X-Api-Key, client_secret, access_token). */
const SECRET_KEY = String.raw`[\w.-]*?(?:password|passwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|session[_-]?id|cookie)`;
const SCHEME = String.raw`(?:(?:Bearer|Basic|Token|Digest)\s+)`;
/** A value: quoted, or up to the next space or separator. Never one already redacted. */
const VALUE = String.raw`(?!\[REDACTED)(?:"[^"\n]*"|'[^'\n]*'|[^\s"',;&)}\]]+)`;

/** Identifiers that look random but are not secret, recognised by the word before them. */
const PUBLIC_ID_BEFORE =
  /\b(?:commit|revision|rev|sha|sha1|sha256|digest|hash|checksum|etag|trace[_-]?id|traceid|span[_-]?id|spanid|request[_-]?id|req[_-]?id|correlation[_-]?id|x-request-id|id)["']?\s*[:=@]?\s*["']?$/i;

const VERSION_BEFORE = /\b(?:version|ver|release|build|v)\s*[:=]?\s*$/i;

const RULES: Rule[] = [
  {
    kind: 'private_key',
    pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    replace: () => mark('private_key'),
  },
  {
    kind: 'jwt',
    pattern: /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{4,}/g,
    replace: () => mark('jwt'),
  },
  {
    // The scheme stays: "Bearer [REDACTED:token]" still says how the caller authenticated.
    kind: 'token',
    pattern: /\b(Bearer|Basic|Token|Digest)(\s+)(?!\[REDACTED)[\w.~+/=-]{8,}/gi,
    replace: (_m, scheme, space) => `${scheme}${space}${mark('token')}`,
  },
  {
    // Well-known token shapes: GitHub, Slack, Stripe, Google API keys.
    kind: 'token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{30,}|xox[abprs]-[\w-]{10,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|AIza[\w-]{35})\b/g,
    replace: () => mark('token'),
  },
  {
    kind: 'aws_key',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/g,
    replace: () => mark('aws_key'),
  },
  {
    // scheme://user:password@host: the password goes, the user and host stay (the host may still be an address below).
    kind: 'credential',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)([^\s@/]+)@/gi,
    replace: (_m, head) => `${head}${mark('credential')}@`,
  },
  {
    // Authorization: <scheme> <value> and password=..., "api_key": "...", X-Api-Key: ...
    kind: 'credential',
    pattern: new RegExp(String.raw`(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?!${SCHEME}?\[REDACTED)(${SCHEME}?)${VALUE}`, 'gi'),
    replace: (_m, head, scheme) => `${head}${scheme}${mark('credential')}`,
  },
  {
    kind: 'credential',
    pattern: new RegExp(String.raw`(\b${SECRET_KEY}["']?\s*[:=]\s*)${VALUE}`, 'gi'),
    replace: (_m, head) => `${head}${mark('credential')}`,
  },
  {
    kind: 'email',
    pattern: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g,
    replace: () => mark('email'),
  },
  {
    // Four dotted octets, not part of a longer dotted number, and not introduced as a version ("version 10.4.2.1").
    kind: 'ip',
    pattern: /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g,
    replace: (m, ...rest) => (introducedBy(VERSION_BEFORE, rest) ? m : mark('ip')),
  },
  {
    // Candidates are checked by node's own parser; a digit is required so `Foo::Bar` style names stay.
    kind: 'ip',
    pattern: /(?<![\w:.])(?:[0-9a-fA-F]{0,4}:){2,7}(?:[0-9a-fA-F]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g,
    replace: (m) => ((m.includes('::') || m.split(':').length === 8) && /\d/.test(m) && isIPv6(m) ? mark('ip') : m),
  },
  {
    kind: 'secret',
    pattern: /(?<![\w-])[0-9a-fA-F]{32,}(?![\w-])/g,
    replace: (m, ...rest) => (introducedBy(PUBLIC_ID_BEFORE, rest) ? m : mark('secret')),
  },
  {
    // Long base64-ish runs that look random: all three character classes and high entropy (paths and names are not).
    kind: 'secret',
    pattern: /(?<![\w+/=-])[A-Za-z0-9+/_-]{32,}={0,2}(?![\w+/=-])/g,
    replace: (m, ...rest) => (looksRandom(m) && !introducedBy(PUBLIC_ID_BEFORE, rest) ? mark('secret') : m),
  },
];

/** Redacts `text`; see the rules above. */
export function redact(text: string): string {
  let out = text;
  for (const rule of RULES) out = out.replace(rule.pattern, rule.replace as (m: string, ...a: unknown[]) => string);
  return out;
}

/** From a replace callback's trailing arguments (offset, whole string): do the words just before the match fit `before`? */
function introducedBy(before: RegExp, rest: unknown[]): boolean {
  const offset = rest.at(-2) as number;
  const whole = rest.at(-1) as string;
  return before.test(whole.slice(Math.max(0, offset - 24), offset));
}

function looksRandom(s: string): boolean {
  if (s.startsWith('/') || s.includes('//')) return false; // a path
  if (!/[a-z]/.test(s) || !/[A-Z]/.test(s) || !/\d/.test(s)) return false;
  return entropy(s) >= 4;
}

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / s.length) * Math.log2(n / s.length);
  return bits;
}
