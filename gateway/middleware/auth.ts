import type { MiddlewareHandler } from 'hono';
import { bearerToken, keyDigest, sameDigest } from '../../lib/bearer.ts';
import { AutopilotError } from '../../lib/errors.ts';

export type TenantEnv = { Variables: { tenant: string; requestId: string } };

/**
 * `Authorization: Bearer <key>` → tenant. The presented key is checked against
 * every configured key (no early exit), so its position in the list does not
 * show in the timing either.
 */
export function bearerTenant(keys: Map<string, string>): MiddlewareHandler<TenantEnv> {
  const known = [...keys].map(([key, tenant]) => ({ digest: keyDigest(key), tenant }));
  return async function bearerTenant(c, next) {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new AutopilotError('unauthorized', 'missing bearer token: send Authorization: Bearer <api key>');
    const presented = keyDigest(token);
    let tenant: string | undefined;
    for (const k of known) if (sameDigest(k.digest, presented)) tenant = k.tenant;
    if (!tenant) throw new AutopilotError('unauthorized', 'unknown API key');
    c.set('tenant', tenant);
    await next();
  };
}
