import { Hono } from 'hono';
import type { GatewayDeps } from '../deps.ts';
import { readBytes } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { partialWriteError } from '../protocols/partial-write.ts';
import { decodeRemoteWrite, toMetricSeries, writtenHeaders } from '../protocols/remote-write.ts';

/**
 * Prometheus remote-write 1.0 and 2.0 on one path. Status codes are the ones
 * Prometheus acts on: 204 only after Kafka acknowledged every sample and
 * staleness marker; 400/413/415 for data it must not resend (a partial write
 * is a 400 after the valid part is durable); 429 and 503 for what it should
 * retry. A 2.0 answer says how much was written, as the spec requires.
 */
export function remoteWriteRoutes(deps: GatewayDeps): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  app.post('/api/v1/write', async (c) => {
    const body = await readBytes(c.req.raw);
    const batch = decodeRemoteWrite(
      body,
      { contentType: c.req.header('content-type'), contentEncoding: c.req.header('content-encoding') },
      { maxDecodedBytes: deps.config.maxBodyBytes * 8 },
    );
    const tenant = c.get('tenant');
    const converted = toMetricSeries(tenant, batch);
    const { series, accepted, stale } = converted;
    deps.telemetry.recordsReceived.inc({ protocol: 'remote_write', kind: 'metrics' }, converted.total);
    await deps.limiter.spend(tenant, accepted + stale.length, () =>
      deps.publisher.publishAll([
        { kind: 'metrics', series },
        { kind: 'staleMarkers', records: stale.map(({ value: _, ...marker }) => marker) },
      ]),
    );
    deps.telemetry.recordsAccepted.inc({ protocol: 'remote_write', kind: 'metrics', tenant }, accepted);
    deps.telemetry.recordsAccepted.inc({ protocol: 'remote_write', kind: 'staleMarkers', tenant }, stale.length);
    if (batch.version === '2.0') for (const [name, value] of Object.entries(writtenHeaders(batch, converted))) c.header(name, value);
    const partial = partialWriteError('samples', converted);
    if (partial) throw partial;
    return c.body(null, 204);
  });
  return app;
}
