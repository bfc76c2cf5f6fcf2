import { afterEach, describe, expect, it } from 'vitest';
import { answer, closeScriptedServers, type ScriptedServer, scriptedServer } from '../../test/helpers/scripted-server.ts';
import { deliver, parseRetryAfter, waitBeforeRetry, type DeliverOptions } from './deliver.ts';
import type { LookupAll } from '../../tenant-config/url-guard.ts';

afterEach(closeScriptedServers);
/** Where deliver posts: the stand-in's /hook. */
const hook = (r: ScriptedServer) => `${r.base}/hook`;

function options(overrides: Partial<DeliverOptions> = {}): DeliverOptions & { waits: number[] } {
  const waits: number[] = [];
  return { timeoutMs: 2000, retries: 3, backoffMs: 100, allowLoopback: true, sleep: async (ms) => void waits.push(ms), waits, ...overrides };
}

describe('deliver', () => {
  it('retries a 500 and delivers on the 200 that follows: 2 attempts', async () => {
    const r = await scriptedServer((res, n) => answer(n === 1 ? 500 : 200, n === 1 ? 'boom' : 'ok')(res));
    const opts = options();
    const result = await deliver({ url: hook(r) }, { hello: 'world' }, opts);
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 2, status_code: 200, error: null });
    expect(result.duration_ms).toBeGreaterThanOrEqual(0);
    expect(r.requests).toHaveLength(2);
    expect(JSON.parse(r.requests[1]!.body)).toEqual({ hello: 'world' });
    expect(r.requests[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(opts.waits).toHaveLength(1);
    expect(opts.waits[0]).toBeGreaterThanOrEqual(50); // backoffMs/2 .. backoffMs for the first retry
    expect(opts.waits[0]).toBeLessThanOrEqual(100);
  });

  it('gives up after the retries when the answer stays 500', async () => {
    const r = await scriptedServer(answer(503, 'down for maintenance'));
    const opts = options({ retries: 2, random: () => 1 });
    const result = await deliver({ url: hook(r) }, {}, opts);
    expect(result).toMatchObject({ outcome: 'failed', attempts: 3, status_code: 503, error: 'HTTP 503: down for maintenance' });
    expect(r.requests).toHaveLength(3);
    expect(opts.waits).toEqual([100, 200]); // exponential, jitter at its top
  });

  it('counts a timeout as retriable', async () => {
    const r = await scriptedServer((res, n) => {
      if (n === 1) setTimeout(() => answer(200)(res), 1500);
      else answer(200)(res);
    });
    const result = await deliver({ url: hook(r) }, {}, options({ timeoutMs: 200 }));
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 2, status_code: 200, error: null });
  });

  it('reports the timeout when every attempt is slow', async () => {
    const r = await scriptedServer((res) => setTimeout(() => answer(200)(res), 1500));
    const result = await deliver({ url: hook(r) }, {}, options({ timeoutMs: 150, retries: 1 }));
    expect(result).toMatchObject({ outcome: 'failed', attempts: 2, status_code: null, error: 'timed out after 150 ms' });
    expect(r.requests).toHaveLength(2);
  });

  it('does not retry a 400', async () => {
    const r = await scriptedServer(answer(400, 'invalid_payload'));
    const opts = options();
    const result = await deliver({ url: hook(r) }, {}, opts);
    expect(result).toMatchObject({ outcome: 'failed', attempts: 1, status_code: 400, error: 'HTTP 400: invalid_payload' });
    expect(r.requests).toHaveLength(1);
    expect(opts.waits).toEqual([]);
  });

  it('waits at least Retry-After on a 429, capped at maxWaitMs', async () => {
    const r = await scriptedServer((res, n) =>
      n === 1 ? answer(429, '', { 'retry-after': '2' })(res) : n === 2 ? answer(429, '', { 'retry-after': '3600' })(res) : answer(200)(res),
    );
    const opts = options({ maxWaitMs: 5000 });
    const result = await deliver({ url: hook(r) }, {}, opts);
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 3 });
    expect(opts.waits).toEqual([2000, 5000]);
  });

  it('retries a refused connection and reports the network error', async () => {
    const r = await scriptedServer(answer(200));
    await r.close();
    const result = await deliver({ url: hook(r) }, {}, options({ retries: 1 }));
    expect(result).toMatchObject({ outcome: 'failed', attempts: 2, status_code: null });
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it('does not follow redirects', async () => {
    const r = await scriptedServer(answer(302, '', { location: 'http://169.254.169.254/latest/meta-data/' }));
    const result = await deliver({ url: hook(r) }, {}, options());
    expect(result).toMatchObject({ outcome: 'failed', attempts: 1, status_code: 302 });
    expect(result.error).toMatch(/redirects are not followed/);
    expect(r.requests).toHaveLength(1);
  });

  it('sends a webhook target its headers', async () => {
    const r = await scriptedServer(answer(204));
    const result = await deliver({ url: hook(r), headers: { Authorization: 'Bearer s3cret', 'X-Team': 'sre' } }, { a: 1 }, options());
    expect(result.outcome).toBe('delivered');
    expect(r.requests[0]!.headers.authorization).toBe('Bearer s3cret');
    expect(r.requests[0]!.headers['x-team']).toBe('sre');
  });

  it('refuses a guarded URL without sending anything, and without retrying', async () => {
    let calls = 0;
    const spy: DeliverOptions['fetch'] = async () => {
      calls++;
      throw new Error('must not be called');
    };
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:169.254.169.254]/', 'file:///etc/passwd']) {
      const result = await deliver({ url }, {}, options({ fetch: spy }));
      expect(result.outcome).toBe('failed');
      expect(result.attempts).toBe(1);
      expect(result.status_code).toBeNull();
    }
    const loop = await deliver({ url: 'http://127.0.0.1:9/' }, {}, options({ fetch: spy, allowLoopback: false }));
    expect(loop.error).toMatch(/loopback/);
    expect(calls).toBe(0);
  });

  it('resolves names through the guard at connect time, so a rebinding answer is refused', async () => {
    const r = await scriptedServer(answer(200));
    // First answer (the pre-check) is the local receiver; the connection's own lookup then gets 0.0.0.0.
    // (0.0.0.0 would reach this machine anyway, so even a broken guard sends nothing off the box.)
    let lookups = 0;
    const rebinding: LookupAll = async () => [{ address: ++lookups === 1 ? '127.0.0.1' : '0.0.0.0', family: 4 }];
    const result = await deliver({ url: `http://receiver.test:${r.port}/hook` }, {}, options({ lookup: rebinding }));
    expect(result).toMatchObject({ outcome: 'failed', attempts: 1, status_code: null });
    expect(result.error).toBe('target host receiver.test resolves to 0.0.0.0, an unspecified address (0.0.0.0/8)');
    expect(r.requests).toHaveLength(0);

    const steady: LookupAll = async () => [{ address: '127.0.0.1', family: 4 }];
    const ok = await deliver({ url: `http://receiver.test:${r.port}/hook` }, {}, options({ lookup: steady }));
    expect(ok).toMatchObject({ outcome: 'delivered', attempts: 1 });
    expect(r.requests[0]!.headers.host).toBe(`receiver.test:${r.port}`);
  });

  it('works with the global fetch as its client', async () => {
    const r = await scriptedServer((res, n) => answer(n === 1 ? 502 : 200)(res));
    const result = await deliver({ url: hook(r) }, { x: 1 }, options({ fetch }));
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 2, status_code: 200 });
  });

  it('never throws, even for a payload that is not JSON', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const result = await deliver({ url: 'http://127.0.0.1:9/' }, circular, options());
    expect(result).toMatchObject({ outcome: 'failed', attempts: 0, status_code: null });
    expect(result.error).toMatch(/payload is not JSON/);
    const thrower: DeliverOptions['fetch'] = () => {
      throw new Error('synchronous explosion');
    };
    const r2 = await deliver({ url: 'http://127.0.0.1:9/' }, {}, options({ fetch: thrower, retries: 0 }));
    expect(r2).toMatchObject({ outcome: 'failed', attempts: 1, error: 'synchronous explosion' });
  });
});

describe('waitBeforeRetry and parseRetryAfter', () => {
  it('doubles per retry with equal jitter, capped, and honours Retry-After', () => {
    expect([1, 2, 3, 4].map((n) => waitBeforeRetry(n, 100, null, 10_000, () => 0))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((n) => waitBeforeRetry(n, 100, null, 10_000, () => 1))).toEqual([100, 200, 400, 800]);
    expect(waitBeforeRetry(20, 100, null, 10_000, () => 1)).toBe(10_000);
    expect(waitBeforeRetry(1, 100, 3000, 10_000, () => 0)).toBe(3000);
    expect(waitBeforeRetry(1, 100, 60_000, 10_000, () => 0)).toBe(10_000);
  });

  it('reads delay-seconds and HTTP dates', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
