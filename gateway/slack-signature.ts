import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * Slack signs each request it sends an app (Slack's "Verifying requests
 * from Slack"): `X-Slack-Signature: v0=<hex HMAC-SHA256>` of
 * `v0:<X-Slack-Request-Timestamp>:<raw body>` under the app's signing
 * secret, the timestamp in epoch seconds. A request is taken when the
 * signature matches (compared in constant time), its timestamp is within
 * five minutes of now (older ones are replays), and its signature has not
 * been used before: a signed request copied and sent again inside those
 * five minutes is refused too (SlackReplays).
 */
export const SLACK_REPLAY_WINDOW_S = 5 * 60;

/** Why a request is refused, or undefined when it is Slack's. Says nothing an attacker could tune a forgery with. */
export function slackSignatureProblem(
  o: { secret: string; timestamp: string | undefined; signature: string | undefined; body: string },
  nowMs = Date.now(),
): string | undefined {
  if (!o.timestamp || !o.signature) return 'X-Slack-Request-Timestamp and X-Slack-Signature are required';
  if (!/^\d{1,12}$/.test(o.timestamp)) return 'X-Slack-Request-Timestamp is not epoch seconds';
  if (Math.abs(nowMs / 1000 - Number(o.timestamp)) > SLACK_REPLAY_WINDOW_S)
    return 'the request is more than five minutes from now: a replay, or a clock far off';
  const expected = Buffer.from(slackSignature(o.secret, o.timestamp, o.body));
  const presented = Buffer.from(o.signature);
  // Unequal lengths fail without a timing difference worth having: the length of "v0=" + 64 hex digits is public.
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return 'the signature does not match';
  return undefined;
}

/** The X-Slack-Signature value for a body: what Slack sends, and what tests sign with. */
export function slackSignature(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/**
 * Signatures already used, kept in Redis for twice the replay window (after
 * that the timestamp check refuses the request anyway), shared by every
 * gateway process.
 */
export class SlackReplays {
  constructor(private readonly redis: Redis) {}

  /** True the first time a tenant's signature is seen, false on every later try. */
  async firstUse(tenant: string, signature: string): Promise<boolean> {
    return (await this.redis.set(key(tenant, signature), '1', 'EX', 2 * SLACK_REPLAY_WINDOW_S, 'NX')) === 'OK';
  }

  /** Gives a signature back when its request could not be handled (a dependency down), so Slack's retry is not refused as a replay. */
  async release(tenant: string, signature: string): Promise<void> {
    await this.redis.del(key(tenant, signature));
  }
}

const key = (tenant: string, signature: string) => `slack:signature:${tenant}:${signature}`;
