import { Hono } from 'hono';
import type { GatewayDeps } from '../deps.ts';
import { readBytes } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { decodeLokiPush, toLogEntries } from '../protocols/loki.ts';
import { partialWriteError } from '../protocols/partial-write.ts';

/** Loki's push API (what promtail, Alloy and the Loki Docker driver send): JSON (optionally gzip) or snappy protobuf. 204 after the Kafka ack. */
export function lokiRoutes(deps: GatewayDeps): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  app.post('/loki/api/v1/push', async (c) => {
    const body = await readBytes(c.req.raw);
    const streams = decodeLokiPush(
      body,
      { contentType: c.req.header('content-type'), contentEncoding: c.req.header('content-encoding') },
      { maxDecodedBytes: deps.config.maxBodyBytes * 8 },
    );
    const tenant = c.get('tenant');
    const converted = toLogEntries(tenant, streams);
    const { entries } = converted;
    deps.telemetry.recordsReceived.inc({ protocol: 'loki', kind: 'logs' }, converted.total);
    await deps.limiter.spend(tenant, entries.length, () => deps.publisher.publish('logs', entries));
    deps.telemetry.recordsAccepted.inc({ protocol: 'loki', kind: 'logs', tenant }, entries.length);
    // Lines that can never be written: the rest is durable, and a 400 stops the shipper resending them.
    const partial = partialWriteError('log lines', converted);
    if (partial) throw partial;
    return c.body(null, 204);
  });
  return app;
}
