import { describe, expect, it } from 'vitest';
import { redact } from './redact.ts';

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

describe('redact', () => {
  it.each([
    [
      'POST /api/login failed for alice@example.com from 203.0.113.42: invalid password',
      'POST /api/login failed for [REDACTED:email] from [REDACTED:ip]: invalid password',
    ],
    [`upstream 401: Authorization: Bearer ${JWT}`, 'upstream 401: Authorization: Bearer [REDACTED:jwt]'],
    ['proxy sent Authorization: Bearer abcdefghijklmnop1234', 'proxy sent Authorization: Bearer [REDACTED:token]'],
    ['header authorization=Basic dXNlcjpwYXNz', 'header authorization=Basic [REDACTED:token]'],
    ['authorization: Bearer short', 'authorization: Bearer [REDACTED:credential]'],
    ['connecting to postgres://app:s3cr3tP4ss@10.0.3.7:5432/orders', 'connecting to postgres://app:[REDACTED:credential]@[REDACTED:ip]:5432/orders'],
    [
      'config loaded: db_password=hunter2 api_key="k-12345-abc" X-Api-Key: 9f8e7d timeout=30s',
      'config loaded: db_password=[REDACTED:credential] api_key=[REDACTED:credential] X-Api-Key: [REDACTED:credential] timeout=30s',
    ],
    ['{"user":"bob","password":"p@ss word","access_token":"abc123"}', '{"user":"bob","password":[REDACTED:credential],"access_token":[REDACTED:credential]}'],
    [
      'AWS AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'AWS [REDACTED:aws_key] aws_secret_access_key=[REDACTED:credential]',
    ],
    ['request from 2001:db8:85a3::8a2e:370:7334 via [::1]:8080', 'request from [REDACTED:ip] via [[REDACTED:ip]]:8080'],
    ['webhook signing secret a94a8fe5ccb19ba61c4c0873d391e987982fbbd3a94a8fe5', 'webhook signing secret [REDACTED:secret]'],
    ['cookie value Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZkdISUpLTE1OT1A= rejected', 'cookie value [REDACTED:secret] rejected'],
    ['github said 401 for ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', 'github said 401 for [REDACTED:token]'],
    ['key file: -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- loaded', 'key file: [REDACTED:private_key] loaded'],
  ])('%s', (line, expected) => {
    expect(redact(line)).toBe(expected);
  });

  it('leaves ordinary text, versions, times, ids and hashes alone', () => {
    const ordinary = [
      'deployed v1.2.3 (build 2026.11.23) at 12:30:45.123, rollout 4/10, took 1.5s, version 10.4.2.1',
      'commit 3f786850e387550fdab836ed7e6dc881de23001b trace_id=4bf92f3577b34da6a3ce929d0e0e4736',
      'request id 550e8400-e29b-41d4-a716-446655440000 in std::vector Foo::Bar, MAC 00:1a:2b:3c:4d:5e',
      'GET /api/v1/orders/123456/items/ABCDEFabcdef0123456789 took 35ms',
      'pod checkout-service-7f9c8d6b5-x2x4z OOMKilled; AbstractSingletonProxyFactoryBean failed',
      'token expired for user 42; password reset requested; max_tokens=256; 1.2.3.4.5',
      'ERROR [db-pool] connection refused after 3 retries (pool size 20/20) at 2026-11-23T12:30:45Z',
    ];
    for (const line of ordinary) expect(redact(line)).toBe(line);
  });

  it('is idempotent: redacting twice changes nothing more', () => {
    const once = redact(`user alice@example.com token=${JWT} from 10.1.2.3 Authorization: Bearer abcdefghijklmnop1234`);
    expect(once).not.toMatch(/alice|eyJ|10\.1\.2\.3|abcdefghijklmnop/);
    expect(redact(once)).toBe(once);
  });
});
