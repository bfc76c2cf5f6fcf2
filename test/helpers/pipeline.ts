import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Kafka } from 'kafkajs';
import type { Publisher } from '../../platform/publisher.ts';
import { buildGateway } from '../../gateway/server.ts';
import { loadConfig, type Config } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { createRegistry } from '../../lib/metrics.ts';
import { startSelfMonitor } from '../../platform/self-monitor.ts';
import { connectServices, type Services } from '../../platform/services.ts';
import { startProcessors, type ProcessorName, type RunningProcessors } from '../../processors/start.ts';

/**
 * The real pipeline inside a test process: the gateway app (called with
 * `app.request()`), the real producer, and optionally the sink on an embedded
 * ClickHouse in this file's own folder. Tenants are unique per pipeline, so
 * counts never include another file's rows.
 */
export interface TestPipeline {
  config: Config;
  services: Services;
  app: Hono<any>;
  publisher: Publisher;
  tenants: { a: string; b: string };
  keys: { a: string; b: string };
  adminKey: string;
  post(path: string, body: unknown, key?: string | null, headers?: Record<string, string>): Promise<Response>;
  rows<T = Record<string, unknown>>(query: string, params?: Record<string, unknown>): Promise<T[]>;
  stop(): Promise<void>;
}

export async function startTestPipeline(name: string, opts: { processors: ProcessorName[]; env?: Record<string, string> }): Promise<TestPipeline> {
  const run = randomUUID().slice(0, 8);
  const tenants = { a: `${name}-a-${run}`, b: `${name}-b-${run}` };
  const keys = { a: `key-a-${run}`, b: `key-b-${run}` };
  const adminKey = `admin-${run}-secret`;
  const config = loadConfig({
    ...process.env,
    AUTOPILOT_DATA_DIR: path.join(process.env.AUTOPILOT_DATA_DIR!, `${name}-${run}`),
    AUTOPILOT_API_KEYS: `${tenants.a}:${keys.a},${tenants.b}:${keys.b}`,
    AUTOPILOT_ADMIN_KEY: adminKey,
    // Own consumer groups (and Redis state): no file resumes another's offsets or waits out its dead members.
    AUTOPILOT_GROUP_PREFIX: `test-${name}-${run}`,
    // …starting at the end of the topics: earlier files' records (event times included) are not this file's business.
    AUTOPILOT_NEW_GROUP_START: 'latest',
    ...opts.env,
  });
  const log = createLogger(`test-${name}`);
  const registry = createRegistry(`test-${name}`);
  const services = await connectServices(config, log, { clientId: `test-${name}`, clickhouse: opts.processors.length > 0 });
  const processors: RunningProcessors | undefined = opts.processors.length
    ? await startProcessors(opts.processors, services, registry, log, {
        groupPrefix: config.groupPrefix,
        newGroupStart: config.newGroupStart,
        env: { ...process.env, ...opts.env },
      })
    : undefined;
  const { app, publisher, live } = await buildGateway(config, services, registry, log, { ...process.env, ...opts.env });
  const self = config.selfMonitor && startSelfMonitor({ registry, publisher, log, ...config.selfMonitor });

  return {
    config,
    services,
    app,
    publisher,
    tenants,
    keys,
    adminKey,
    post: async (p, body, key = keys.a, headers = {}) =>
      app.request(p, {
        method: 'POST',
        body: typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body) : JSON.stringify(body),
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
      }),
    async rows(query, params) {
      const result = await services.clickhouse!.query({ query, query_params: params, format: 'JSONEachRow' });
      return result.json();
    },
    async stop() {
      self?.stop();
      await live?.stop();
      await publisher.close();
      await processors?.stop();
      await services.close();
    },
  };
}

/** Polls `probe` until it returns a value `done` accepts; fails with the last value after `ms`. */
export async function eventually<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T;
  do {
    last = await probe();
    if (done(last)) return last;
    await sleep(200);
  } while (Date.now() < deadline);
  throw new Error(`condition not met within ${ms} ms; last value: ${JSON.stringify(last)}`);
}

/** Sum of a topic's high watermarks: how many records Kafka holds. Unchanged = nothing written. */
export async function topicEnd(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** A Hono app on a real loopback port, for senders that need a URL (Prometheus, Alertmanager, benchmarks). */
export async function listen(app: Hono<any>, port = 0): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
