import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores } from '../stores.ts';

/**
 * GET /v1/live: the caller's tenant's changes as server-sent events, from the
 * gateway's live feed (gateway/live-feed.ts): `event: incident` with the
 * incident as GET /v1/incidents lists it, each time a new version of it is
 * written; `event: analysis` for each analysis made; `event: proposal` for
 * each version of a remediation proposal (made, decided, executed, verified). A comment line every
 * heartbeat keeps a quiet stream open; `retry` tells EventSource how soon to
 * come back after a drop. The subscription ends when the client goes away.
 * 503, as every route that reads ClickHouse, when this process has none or
 * cannot read it now.
 */
const RETRY_MS = 3000;

export function liveRoutes(deps: Pick<GatewayDeps, 'live'>): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();

  app.get('/v1/live', async (c) => {
    const feed = requireStores(deps.live);
    // Before the headers: once the client sees them, every later change reaches it.
    const subscription = await feed.subscribe(c.get('tenant'));
    const res = streamSSE(c, async (stream) => {
      stream.onAbort(() => subscription.close());
      await stream.write(`retry: ${RETRY_MS}\n\n`);
      for (let events = await subscription.next(feed.heartbeatMs); events; events = await subscription.next(feed.heartbeatMs)) {
        if (events.length === 0) await stream.write(': heartbeat\n\n');
        for (const e of events) await stream.writeSSE({ event: e.event, data: JSON.stringify(e.data) });
      }
    });
    // The connection is the stream's alone: closed when it ends, so a stopping server need not wait out its keep-alive.
    res.headers.set('Connection', 'close');
    return res;
  });

  return app;
}
