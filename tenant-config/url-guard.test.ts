import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../lib/errors.ts';
import { addressRefusal, checkOutgoingUrl, checkUrlShape, type LookupAll } from './url-guard.ts';
import { thrownAutopilotError } from '../test/helpers/thrown.ts';

const answers =
  (table: Record<string, string[]>): LookupAll =>
  async (host) => {
    const found = table[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

const refusal = thrownAutopilotError;

async function asyncRefusal(p: Promise<unknown>): Promise<AutopilotError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AutopilotError);
  return err as AutopilotError;
}

describe('checkUrlShape (configuration time)', () => {
  it.each([
    ['file:///etc/passwd', /http or https, not file:/],
    ['ftp://files.example.com/hook', /http or https, not ftp:/],
    ['gopher://example.com/', /http or https/],
    ['not a url', /not a valid absolute URL/],
    ['http://user:pass@hooks.example.com/x', /credentials/],
    ['https://token@hooks.example.com/x', /credentials/],
    ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['http://[::ffff:169.254.169.254]/latest/meta-data/', /cloud metadata/],
    ['http://[::ffff:a9fe:a9fe]/', /cloud metadata/],
    ['http://[64:ff9b::a9fe:a9fe]/', /cloud metadata/], // NAT64
    ['http://[fd00:ec2::254]/', /cloud metadata/],
    ['http://100.100.100.200/', /cloud metadata/],
    ['http://metadata.google.internal/computeMetadata/v1/', /cloud metadata/],
    ['http://METADATA.google.internal./', /cloud metadata/],
    ['http://169.254.10.20/', /link-local/],
    ['http://[fe80::1]/', /link-local/],
    ['http://[febf::1]/', /link-local/],
    ['http://0.0.0.0:8080/', /unspecified/],
    ['http://[::]/', /unspecified/],
    ['http://224.0.0.1/', /multicast/],
    ['http://[ff02::1]/', /multicast/],
    ['http://255.255.255.255/', /broadcast/],
    ['http://localhost:8080/hook', /loopback/],
    ['http://api.localhost/hook', /loopback/],
    ['http://127.0.0.1/', /loopback/],
    ['http://2130706433/', /loopback/], // 127.0.0.1 written as one number: URL parsing normalises it first
    ['http://127.1/', /loopback/],
    ['http://[::1]/', /loopback/],
    ['http://[::ffff:127.0.0.1]/', /loopback/],
  ])('refuses %s', (url, message) => {
    const err = refusal(() => checkUrlShape(url));
    expect(err.code).toBe('invalid_target');
    expect(err.status).toBe(400);
    expect(err.retriable).toBe(false);
    expect(err.message).toMatch(message);
  });

  it('allows loopback only when asked to, and never metadata or link-local', () => {
    for (const url of ['http://localhost:8080/hook', 'http://127.0.0.1:9/', 'http://[::1]:9/', 'http://[::ffff:127.0.0.1]/']) {
      expect(checkUrlShape(url, { allowLoopback: true }).href).toBe(new URL(url).href);
    }
    expect(() => checkUrlShape('http://169.254.169.254/', { allowLoopback: true })).toThrow(/cloud metadata/);
    expect(() => checkUrlShape('http://[fe80::1]/', { allowLoopback: true })).toThrow(/link-local/);
    expect(() => checkUrlShape('http://0.0.0.0/', { allowLoopback: true })).toThrow(/unspecified/);
  });

  it.each([
    'https://hooks.slack.com/services/T000/B000/XXXX',
    'http://10.1.2.3:8080/hook',
    'http://172.16.0.9/hook',
    'http://192.168.1.10/hook',
    'http://[fd12:3456::1]/hook',
    'https://example.com:8443/a?b=c',
  ])('allows %s', (url) => {
    expect(checkUrlShape(url).href).toBe(new URL(url).href);
  });

  it('refuses URLs past the length limit', () => {
    expect(() => checkUrlShape(`https://example.com/${'a'.repeat(3000)}`)).toThrow(/longer than 2048/);
  });
});

describe('checkOutgoingUrl (delivery time)', () => {
  const lookup = answers({
    'hooks.example.com': ['93.184.216.34', '2606:2800:220:1::1'],
    'internal.example.com': ['10.0.0.5'],
    'evil.example.com': ['93.184.216.34', '169.254.169.254'],
    'mapped.example.com': ['::ffff:169.254.169.254'],
    'loop.example.com': ['127.0.0.1'],
  });

  it('allows names whose every address is allowed, private ranges included', async () => {
    expect((await checkOutgoingUrl('https://hooks.example.com/x', { allowLoopback: false, lookup })).hostname).toBe('hooks.example.com');
    expect((await checkOutgoingUrl('http://internal.example.com/x', { allowLoopback: false, lookup })).hostname).toBe('internal.example.com');
    // IP literals are judged without a lookup.
    const never: LookupAll = async () => {
      throw new Error('looked up an IP literal');
    };
    expect((await checkOutgoingUrl('http://10.9.8.7:8080/x', { allowLoopback: false, lookup: never })).hostname).toBe('10.9.8.7');
  });

  it('refuses a name when any of its addresses is refused, IPv4-mapped included', async () => {
    const evil = await asyncRefusal(checkOutgoingUrl('https://evil.example.com/x', { allowLoopback: false, lookup }));
    expect(evil.code).toBe('invalid_target');
    expect(evil.message).toBe('target host evil.example.com resolves to 169.254.169.254, a cloud metadata address');
    const mapped = await asyncRefusal(checkOutgoingUrl('https://mapped.example.com/x', { allowLoopback: false, lookup }));
    expect(mapped.message).toMatch(/::ffff:169\.254\.169\.254, a cloud metadata address/);
  });

  it('refuses names resolving to loopback unless loopback is allowed', async () => {
    expect((await asyncRefusal(checkOutgoingUrl('http://loop.example.com/', { allowLoopback: false, lookup }))).message).toMatch(/loopback/);
    await expect(checkOutgoingUrl('http://loop.example.com/', { allowLoopback: true, lookup })).resolves.toBeInstanceOf(URL);
  });

  it('reports a name that does not resolve as retriable, not as a refusal', async () => {
    const err = await asyncRefusal(checkOutgoingUrl('http://nowhere.example.com/', { allowLoopback: false, lookup }));
    expect(err.code).toBe('unavailable');
    expect(err.retriable).toBe(true);
    expect(err.message).toMatch(/cannot resolve target host nowhere\.example\.com/);
  });

  it('runs the shape checks first', async () => {
    expect((await asyncRefusal(checkOutgoingUrl('file:///etc/passwd', { allowLoopback: true, lookup }))).message).toMatch(/not file:/);
  });
});

describe('addressRefusal', () => {
  it('classifies addresses', () => {
    expect(addressRefusal('8.8.8.8', false)).toBeNull();
    expect(addressRefusal('10.0.0.1', false)).toBeNull();
    expect(addressRefusal('2001:db8::1', false)).toBeNull();
    expect(addressRefusal('::ffff:10.0.0.1', false)).toBeNull();
    expect(addressRefusal('::ffff:7f00:1', false)).toMatch(/loopback/);
    expect(addressRefusal('::ffff:7f00:1', true)).toBeNull();
    expect(addressRefusal('fe80::1%eth0', false)).toMatch(/link-local/);
    expect(addressRefusal('0.1.2.3', false)).toMatch(/unspecified/);
    expect(addressRefusal('239.255.255.250', false)).toMatch(/multicast/);
    expect(addressRefusal('example.com', false)).toBe('not an IP address');
  });
});
