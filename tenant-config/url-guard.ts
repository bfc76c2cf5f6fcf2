import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { AutopilotError, describeError, unavailable } from '../lib/errors.ts';

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

/**
 * NOTIFY_ALLOW_LOOPBACK, read where targets are checked (the gateway, on
 * save) and where they are called (the notifier): one rule for both.
 */
export const allowLoopbackSetting = z
  .enum(['true', 'false'])
  .default('false')
  .transform((v) => v === 'true');
export const allowLoopbackTargets = (env: NodeJS.ProcessEnv): boolean => allowLoopbackSetting.parse(env.NOTIFY_ALLOW_LOOPBACK);

const MAX_URL_LENGTH = 2048;

/** Names that reach a cloud's instance metadata service without a DNS answer we could check. */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog']);

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
  return url.hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/**
 * Refused ranges, by the reason given; the first that holds the address
 * decides, so the metadata addresses are named as such, not as link-local,
 * and :: and ::1 before the IPv4-compatible ::/96 that holds them.
 * BlockList matches an IPv4 range on its IPv4-mapped form (::ffff:a.b.c.d)
 * by itself; the IPv4-compatible form (::a.b.c.d) and NAT64 (64:ff9b::/96,
 * through the network's translator) reach the IPv4 address too, so every
 * IPv4 range is refused at those places as well.
 */
const REFUSED = [
  // AWS/GCP/Azure/OpenStack (169.254.169.254, also link-local), Alibaba Cloud (100.100.100.200), AWS over IPv6.
  refusedRanges('a cloud metadata address', ['169.254.169.254/32', '100.100.100.200/32', 'fd00:ec2::254/128']),
  refusedRanges('an unspecified address (::)', ['::/128']),
  refusedRanges('a loopback address (::1)', ['::1/128'], { loopback: true }),
  refusedRanges('an unspecified address (0.0.0.0/8)', ['0.0.0.0/8']),
  refusedRanges('a loopback address (127.0.0.0/8)', ['127.0.0.0/8'], { loopback: true }),
  refusedRanges('a link-local address (169.254.0.0/16)', ['169.254.0.0/16']),
  refusedRanges('a multicast address (224.0.0.0/4)', ['224.0.0.0/4']),
  refusedRanges('a reserved or broadcast address (240.0.0.0/4)', ['240.0.0.0/4']),
  refusedRanges('a link-local address (fe80::/10)', ['fe80::/10']),
  refusedRanges('a multicast address (ff00::/8)', ['ff00::/8']),
];

function refusedRanges(why: string, cidrs: string[], opts: { loopback?: boolean } = {}): { why: string; loopback: boolean; ranges: BlockList } {
  const ranges = new BlockList();
  for (const cidr of cidrs) {
    const [network = '', bits = ''] = cidr.split('/');
    if (isIP(network) === 6) {
      ranges.addSubnet(network, Number(bits), 'ipv6');
      continue;
    }
    ranges.addSubnet(network, Number(bits), 'ipv4');
    for (const prefix of ['::', '64:ff9b::']) ranges.addSubnet(`${prefix}${network}`, 96 + Number(bits), 'ipv6');
  }
  return { why, loopback: opts.loopback ?? false, ranges };
}

/** Why an IP address may not be a target, or null when it may. */
export function addressRefusal(address: string, allowLoopback: boolean): string | null {
  const bare = address.split('%')[0]!;
  const family = isIP(bare);
  if (family === 0) return 'not an IP address';
  const found = REFUSED.find((r) => r.ranges.check(bare, family === 4 ? 'ipv4' : 'ipv6'));
  if (!found || (found.loopback && allowLoopback)) return null;
  return found.why;
}
