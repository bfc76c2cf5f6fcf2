import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AutopilotError, describeError, unavailable } from '../../lib/errors.ts';

/**
 * Where notifications may go. A target URL is typed in by a tenant and then
 * fetched by our servers, so it must not be a way into the machine or the
 * cloud it runs on (SSRF): only http(s), no credentials in the URL, and no
 * host that is or resolves to a loopback, link-local, cloud metadata,
 * unspecified, multicast or reserved address. Private ranges (10/8,
 * 172.16/12, 192.168/16, fc00::/7) stay allowed: an in-house webhook
 * receiver is a normal target.
 */

/** `dns.promises.lookup` with `all: true`, injectable for tests. */
export type LookupAll = (hostname: string, opts: { all: true }) => Promise<{ address: string; family: number }[]>;

export interface GuardOptions {
  /** Allow 127/8, ::1 and localhost: for tests and single-machine setups, never for a shared deployment. */
  allowLoopback: boolean;
  lookup?: LookupAll;
}

export const MAX_URL_LENGTH = 2048;

/** Names that reach a cloud's instance metadata service without a DNS answer we could check. */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog']);
/** AWS/GCP/Azure/OpenStack (169.254.169.254, also link-local), Alibaba Cloud (100.100.100.200). */
const METADATA_V4 = new Set([ipv4ToInt('169.254.169.254'), ipv4ToInt('100.100.100.200')]);
/** AWS's IPv6 metadata address fd00:ec2::254, as its eight words. */
const METADATA_V6 = [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254];

const refused = (message: string) => new AutopilotError('invalid_target', message);

/**
 * Synchronous checks for configuration time (the API answers 400 with
 * `invalid_target`): the URL parses, is http(s), has no credentials, and its
 * host is not a refused name or a refused IP literal. Names are not resolved
 * here; `checkOutgoingUrl` does that before every delivery.
 */
export function checkUrlShape(url: string, opts: { allowLoopback: boolean } = { allowLoopback: false }): URL {
  if (url.length > MAX_URL_LENGTH) throw refused(`target URL is longer than ${MAX_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refused('target URL is not a valid absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw refused(`target URL must use http or https, not ${parsed.protocol}`);
  }
  // Credentials in a URL end up in logs and error messages; secrets belong in headers.
  if (parsed.username !== '' || parsed.password !== '') {
    throw refused('target URL must not carry credentials (user:password@); send them in a header instead');
  }
  const host = bareHost(parsed);
  if (host === '') throw refused('target URL has no host');
  if (METADATA_HOSTS.has(host)) throw refused(`target host ${host} is a cloud metadata service`);
  if (host === 'localhost' || host.endsWith('.localhost')) {
    if (!opts.allowLoopback) throw refused(`target host ${host} is a loopback name`);
  } else if (isIP(host)) {
    const why = addressRefusal(host, opts.allowLoopback);
    if (why) throw refused(`target host ${host} is ${why}`);
  }
  return parsed;
}

/**
 * Delivery-time check, before each attempt (DNS answers change): the shape
 * checks, then every address the host resolves to. A refusal is an
 * `invalid_target` error (not retriable); a name that does not resolve is
 * `unavailable` (retriable: DNS may be having a bad minute).
 */
export async function checkOutgoingUrl(url: string, opts: GuardOptions): Promise<URL> {
  const parsed = checkUrlShape(url, opts);
  const host = bareHost(parsed);
  if (!isIP(host)) await resolveChecked(host, opts);
  return parsed;
}

/** Resolves `host` and refuses it if any of its addresses is refused: an attacker controls which one a client picks. */
export async function resolveChecked(host: string, opts: GuardOptions): Promise<{ address: string; family: number }[]> {
  let addresses: { address: string; family: number }[];
  try {
    addresses = await (opts.lookup ?? (dnsLookup as LookupAll))(host, { all: true });
  } catch (err) {
    throw unavailable(`cannot resolve target host ${host}: ${describeError(err)}`, err);
  }
  if (addresses.length === 0) throw unavailable(`target host ${host} resolves to no address`);
  for (const { address } of addresses) {
    const why = addressRefusal(address, opts.allowLoopback);
    if (why) throw refused(`target host ${host} resolves to ${address}, ${why}`);
  }
  return addresses;
}

/** Lower-case host without IPv6 brackets or a trailing dot ("localhost." is localhost). */
function bareHost(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** Why an IP address may not be a target, or null when it may. */
export function addressRefusal(address: string, allowLoopback: boolean): string | null {
  const family = isIP(address.split('%')[0]!);
  if (family === 4) return ipv4Refusal(ipv4ToInt(address), allowLoopback);
  if (family === 6) return ipv6Refusal(ipv6Words(address.split('%')[0]!), allowLoopback);
  return 'not an IP address';
}

function ipv4Refusal(a: number, allowLoopback: boolean): string | null {
  if (METADATA_V4.has(a)) return 'a cloud metadata address';
  const first = a >>> 24;
  if (first === 0) return 'an unspecified address (0.0.0.0/8)';
  if (first === 127) return allowLoopback ? null : 'a loopback address (127.0.0.0/8)';
  if (a >>> 16 === 0xa9fe) return 'a link-local address (169.254.0.0/16)';
  if (first >= 224 && first <= 239) return 'a multicast address (224.0.0.0/4)';
  if (first >= 240) return 'a reserved or broadcast address (240.0.0.0/4)';
  return null;
}

function ipv6Refusal(w: number[], allowLoopback: boolean): string | null {
  if (w.every((x, i) => x === METADATA_V6[i])) return 'a cloud metadata address';
  const zeroUpTo = (n: number) => w.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return 'an unspecified address (::)';
  if (zeroUpTo(7) && w[7] === 1) return allowLoopback ? null : 'a loopback address (::1)';
  const embedded = ((w[6]! << 16) | w[7]!) >>> 0;
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) reach the IPv4 address itself;
  // NAT64 (64:ff9b::/96) reaches it through the network's translator. Judge the IPv4 address.
  if (zeroUpTo(5) && w[5] === 0xffff) return ipv4Refusal(embedded, allowLoopback);
  if (zeroUpTo(6)) return ipv4Refusal(embedded, allowLoopback);
  if (w[0] === 0x64 && w[1] === 0xff9b && w.slice(2, 6).every((x) => x === 0)) return ipv4Refusal(embedded, allowLoopback);
  if ((w[0]! & 0xffc0) === 0xfe80) return 'a link-local address (fe80::/10)';
  if ((w[0]! & 0xff00) === 0xff00) return 'a multicast address (ff00::/8)';
  return null;
}

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
}

/** The eight 16-bit words of an IPv6 address already validated by `isIP`, "::" and a dotted IPv4 tail expanded. */
function ipv6Words(address: string): number[] {
  let text = address.toLowerCase();
  const tail = text.slice(text.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToInt(tail);
    text = `${text.slice(0, text.length - tail.length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const words = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = words(head);
  const right = rest === undefined ? [] : words(rest);
  return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
}
