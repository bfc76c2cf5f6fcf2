import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AutopilotError } from './errors.ts';

/**
 * Keys are compared as SHA-256 digests with timingSafeEqual, so neither a
 * key's length nor how much of it matched shows in the timing.
 */
export const keyDigest = (key: string) => createHash('sha256').update(key).digest();
export const sameDigest = (a: Buffer, b: Buffer) => timingSafeEqual(a, b);

/** The token of `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}

/** The admin key guards operator endpoints (SQL through a running process). */
export function adminOnly(adminKey: string | undefined): MiddlewareHandler {
  const expected = adminKey ? keyDigest(adminKey) : undefined;
  return async function adminOnly(c, next) {
    if (!expected) throw new AutopilotError('forbidden', 'admin endpoints are disabled: set AUTOPILOT_ADMIN_KEY');
    const token = bearerToken(c.req.header('authorization'));
    if (!token || !sameDigest(expected, keyDigest(token))) throw new AutopilotError('unauthorized', 'admin key required');
    await next();
  };
}
