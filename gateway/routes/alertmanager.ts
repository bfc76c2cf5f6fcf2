import { Hono } from 'hono';
import type { GatewayDeps } from '../deps.ts';
import { readJson } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { parseAlertmanagerWebhook, toAlertRecords } from '../protocols/alertmanager.ts';

/**
 * Alertmanager's webhook receiver (payload version 4). Each alert becomes an
 * alert record; firing ones are incident signals for the service in their
 * labels. Alertmanager retries anything but 2xx, so 2xx waits for the ack.
 */
export function alertmanagerRoutes(deps: GatewayDeps): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  app.post('/v1/alertmanager', async (c) => {
    const payload = parseAlertmanagerWebhook(await readJson(c.req.raw));
    const tenant = c.get('tenant');
    const alerts = toAlertRecords(tenant, payload, Date.now());
    deps.telemetry.recordsReceived.inc({ protocol: 'alertmanager', kind: 'alerts' }, alerts.length);
    await deps.limiter.spend(tenant, alerts.length, () => deps.publisher.publish('alerts', alerts));
    deps.telemetry.recordsAccepted.inc({ protocol: 'alertmanager', kind: 'alerts', tenant }, alerts.length);
    return c.json({ accepted: alerts.length }, 202);
  });
  return app;
}
