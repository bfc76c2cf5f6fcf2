import { Registry } from 'prom-client';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Hono } from 'hono';
import { expect } from 'vitest';
import { createApp } from '../../gateway/app.ts';
import type { TenantEnv } from '../../gateway/middleware/auth.ts';
import { TenantRateLimiter } from '../../gateway/middleware/rate-limit.ts';
import type { Redis } from 'ioredis';
import type { JobTriggers } from '../../platform/job-triggers.ts';
import { Proposals } from '../../platform/proposals.ts';
import type { SecretBox } from '../../lib/secrets.ts';
import { SlackReplays } from '../../gateway/slack-signature.ts';
import type { Publisher } from '../../platform/publisher.ts';
import type { LiveFeed } from '../../gateway/live-feed.ts';
import { createStores, type GatewayStores } from '../../gateway/stores.ts';
import { gatewayTelemetry } from '../../gateway/telemetry.ts';
import { createLogger } from '../../lib/log.ts';
import { stubPublisher } from './publisher-stub.ts';
import { memoryStores } from './store-stubs.ts';

export const TEST_KEYS = { a: 'key-of-tenant-a', b: 'key-of-tenant-b' } as const;
export const TEST_TENANTS = { a: 'tenant-a', b: 'tenant-b' } as const;

export interface TestAppOptions {
  publisher: Publisher;
  stores?: GatewayStores;
  clickhouse?: ClickHouseClient;
  maxBodyBytes?: number;
  maxBatch?: number;
  /** Records per second per tenant; 0 (the default) is unlimited. */
  tenantRate?: number;
  metricsTenantLabels?: boolean;
  allowLoopbackTargets?: boolean;
  /** Manual job runs (Redis); absent, POST /v1/jobs/{id}/trigger answers 503. */
  triggers?: JobTriggers;
  /** Remediation state (Redis); absent, approvals and remediation configuration answer 503. */
  proposals?: Proposals;
  slackReplays?: SlackReplays;
  /** AUTOPILOT_SECRET_KEY's box; absent, configuring a secret is refused. */
  secretBox?: SecretBox;
  /** The console's live feed; absent, GET /v1/live answers 503. */
  live?: LiveFeed;
}

/** The gateway app from `createApp`, with the two test tenants' keys and no server: call `app.request()`. */
export function gatewayTestApp(opts: TestAppOptions) {
  const registry = new Registry();
  const telemetry = gatewayTelemetry(registry);
  const app = createApp({
    config: {
      apiKeys: new Map([
        [TEST_KEYS.a, TEST_TENANTS.a],
        [TEST_KEYS.b, TEST_TENANTS.b],
      ]),
      adminKey: 'admin-key-for-tests',
      maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024,
      maxBatch: opts.maxBatch ?? 1000,
      clickhouseUrl: undefined,
      metricsTenantLabels: opts.metricsTenantLabels,
    },
    publisher: opts.publisher,
    limiter: new TenantRateLimiter(opts.tenantRate ?? 0),
    telemetry,
    registry,
    checks: [],
    clickhouse: opts.clickhouse,
    stores: opts.stores,
    allowLoopbackTargets: opts.allowLoopbackTargets,
    triggers: opts.triggers,
    proposals: opts.proposals,
    slackReplays: opts.slackReplays,
    secretBox: opts.secretBox,
    live: opts.live,
    log: createLogger('test-gateway', 'silent'),
  });
  return { app, registry, telemetry };
}

/**
 * The gateway app for tests of what it refuses: everything real but Kafka,
 * which such a request must never reach. The publisher throws if it is
 * called, so a refusal that happened too late shows as a 500.
 */
const kafkaNotExpected = (): never => {
  throw new Error('this request should have been refused before Kafka');
};
const unreachablePublisher: Publisher = {
  publish: kafkaNotExpected,
  publishAll: kafkaNotExpected,
  sendRaw: kafkaNotExpected,
  connected: false,
  close: async () => undefined,
};

export function refusalTestApp(opts: Omit<TestAppOptions, 'publisher' | 'stores'> = {}) {
  return gatewayTestApp({ ...opts, publisher: unreachablePublisher, stores: opts.clickhouse && createStores(opts.clickhouse) });
}

/**
 * The gateway app for route tests in milliseconds: a stub publisher that
 * keeps what reached "Kafka" (or fails as Kafka down does) and in-memory
 * stores (test/helpers/store-stubs.ts), with a client per test tenant.
 */
export function routeTestApp(
  opts: Omit<TestAppOptions, 'publisher' | 'stores' | 'clickhouse' | 'proposals' | 'slackReplays'> & {
    withStores?: boolean;
    /** A Redis of the test's own: remediation's Proposals and Slack replay checks on it, publishing through the stub. */
    redis?: Redis;
  } = {},
) {
  const publisher = stubPublisher();
  const { stores, memory } = memoryStores();
  const proposals = opts.redis && new Proposals(opts.redis, publisher);
  const slackReplays = opts.redis && new SlackReplays(opts.redis);
  const built = gatewayTestApp({ ...opts, publisher, proposals, slackReplays, stores: opts.withStores === false ? undefined : stores });
  return {
    ...built,
    publisher,
    memory,
    proposals,
    a: client(built.app, TEST_KEYS.a),
    b: client(built.app, TEST_KEYS.b),
    anonymous: client(built.app, undefined),
  };
}

/**
 * Sends a request as the holder of `key` (none when undefined). A body that
 * is not a string or bytes is sent as JSON with `content-type:
 * application/json`; headers given win over those. A string body without a
 * Content-Type goes as text/plain (fetch's rule); bytes go with none.
 */
export type Send = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>;

export function client(app: Hono<TenantEnv>, key: string | undefined): Send {
  return async (method, path, body, headers = {}) => {
    const raw = typeof body === 'string' || body instanceof Uint8Array;
    const sent: Record<string, string> = {};
    if (body !== undefined && !raw) sent['content-type'] = 'application/json';
    if (key !== undefined) sent.authorization = `Bearer ${key}`;
    const init: RequestInit = { method, headers: { ...sent, ...headers } };
    if (body !== undefined) init.body = raw ? (body as BodyInit) : JSON.stringify(body);
    return app.request(path, init);
  };
}

/** The gateway's one error shape (gateway/app.ts errorResponse). */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; request_id: string };
}

/**
 * The response is the error `code` with `status`, in the one error shape:
 * exactly error.{code, message, details?, request_id}, the request id the
 * one in the response's X-Request-Id header. Returns the error to look into.
 */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).filter((k) => k !== 'details')).toEqual(['code', 'message', 'request_id']);
  expect(body.error.code).toBe(code);
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.request_id).toBeTruthy();
  expect(body.error.request_id).toBe(res.headers.get('x-request-id'));
  return body.error;
}
