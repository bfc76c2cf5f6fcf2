import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import { AutopilotError } from '../lib/errors.ts';
import { opsRoutes } from '../platform/ops-routes.ts';
import { bearerTenant, type TenantEnv } from './middleware/auth.ts';
import { openApiDocument } from './openapi.ts';
import type { GatewayDeps } from './deps.ts';
import { agentEventRoutes } from './routes/agent-events.ts';
import { alertmanagerRoutes } from './routes/alertmanager.ts';
import { agentPriceRoutes } from './routes/agent-prices.ts';
import { agentStatsRoutes } from './routes/agents.ts';
import { alertRuleRoutes } from './routes/alert-rules.ts';
import { experimentRoutes } from './routes/experiments.ts';
import { promptRoutes } from './routes/prompts.ts';
import { targetRoutes } from './routes/targets.ts';
import { jobRoutes } from './routes/jobs.ts';
import { statisticsRoutes } from './routes/statistics.ts';
import { serviceRoutes } from './routes/services.ts';
import { liveRoutes } from './routes/live.ts';
import { docsRoutes } from './routes/docs.ts';
import { assistantRoutes } from './routes/assistant.ts';
import { incidentRoutes } from './routes/incidents.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { lokiRoutes } from './routes/loki.ts';
import { otlpErrorResponse, otlpRoutes } from './routes/otlp.ts';
import { remoteWriteRoutes } from './routes/remote-write.ts';
import { actionRoutes } from './routes/actions.ts';
import { remediationPolicyRoutes } from './routes/remediation-policies.ts';
import { proposalRoutes } from './routes/proposals.ts';
import { slackInteractionRoutes } from './routes/slack-interactions.ts';
import { consoleRoutes } from './routes/console.ts';

/** The gateway as a Hono app built from its dependencies; tests call `app.request()` on it with no server. */
export function createApp(deps: GatewayDeps): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();

  app.use(requestId());
  app.use(async function observe(c, next) {
    const started = performance.now();
    await next();
    const route = routePath(c);
    deps.telemetry.requests.inc({ route, method: c.req.method, status: String(c.res.status) });
    deps.telemetry.requestSeconds.observe({ route }, (performance.now() - started) / 1000);
  });

  app.route(
    '/',
    opsRoutes({
      registry: deps.registry,
      checks: deps.checks,
      clickhouse: deps.clickhouse,
      adminKey: deps.config.adminKey,
      metricsTenantLabels: deps.config.metricsTenantLabels,
    }),
  );
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.route('/', docsRoutes());

  const limitBody = bodyLimit({
    maxSize: deps.config.maxBodyBytes,
    onError: () => {
      throw new AutopilotError('payload_too_large', `body is over the limit of ${deps.config.maxBodyBytes} bytes; split the batch`);
    },
  });
  const tenantOf = bearerTenant(deps.config.apiKeys);
  for (const path of ['/v1/*', '/api/v1/write', '/loki/api/v1/push', '/otlp/*']) app.use(path, limitBody, tenantOf);
  // Slack holds no API key: its requests are checked by their signature (routes/slack-interactions.ts).
  app.use('/slack/*', limitBody);

  app.route('/', ingestRoutes(deps));
  app.route('/', agentEventRoutes(deps));
  app.route('/', remoteWriteRoutes(deps));
  app.route('/', lokiRoutes(deps));
  app.route('/', otlpRoutes(deps));
  app.route('/', alertmanagerRoutes(deps));
  app.route('/', incidentRoutes(deps));
  app.route('/', alertRuleRoutes(deps));
  app.route('/', targetRoutes(deps));
  app.route('/', promptRoutes(deps));
  app.route('/', experimentRoutes(deps));
  app.route('/', agentPriceRoutes(deps));
  app.route('/', agentStatsRoutes(deps));
  app.route('/', jobRoutes(deps));
  app.route('/', statisticsRoutes(deps));
  app.route('/', serviceRoutes(deps));
  app.route('/', liveRoutes(deps));
  app.route('/', assistantRoutes(deps));
  app.route('/', actionRoutes(deps));
  app.route('/', remediationPolicyRoutes(deps));
  app.route('/', proposalRoutes(deps));
  app.route('/', slackInteractionRoutes(deps));
  app.route('/', consoleRoutes());

  app.notFound((c) => errorResponse(c, new AutopilotError('not_found', `no route for ${c.req.method} ${c.req.path}`)));

  app.onError((err, c) => {
    const e = toAutopilotError(err);
    deps.telemetry.requestsRefused.inc({ protocol: protocolOf(c.req.path), code: e.code });
    if (e.status >= 500) deps.log.error({ err, requestId: c.get('requestId'), path: c.req.path }, e.message);
    else deps.log.info({ code: e.code, requestId: c.get('requestId'), path: c.req.path }, e.message);
    return c.req.path.startsWith('/otlp/') ? otlpErrorResponse(c, e) : errorResponse(c, e);
  });

  return app;
}

/** The one error shape: {"error": {code, message, details?, request_id}}, with Retry-After on 429/503. */
function errorResponse(c: Context<TenantEnv>, e: AutopilotError): Response {
  if (e.retryAfter !== undefined) c.header('Retry-After', String(e.retryAfter));
  const details = e.details === undefined ? {} : { details: e.details };
  return c.json({ error: { code: e.code, message: e.message, ...details, request_id: c.get('requestId') } }, e.status as 400);
}

/** Which ingest protocol a path belongs to, for the refusal counter. */
function protocolOf(path: string): string {
  if (path === '/api/v1/write') return 'remote_write';
  if (path.startsWith('/loki/')) return 'loki';
  if (path.startsWith('/otlp/')) return 'otlp';
  if (path === '/v1/alertmanager') return 'alertmanager';
  if (path === '/v1/metrics' || path === '/v1/logs' || path === '/v1/deployments' || path === '/v1/agent-events') return 'json';
  return 'api';
}

function toAutopilotError(err: unknown): AutopilotError {
  if (err instanceof AutopilotError) return err;
  if (err instanceof HTTPException) {
    const code = err.status === 413 ? 'payload_too_large' : err.status === 401 ? 'unauthorized' : err.status < 500 ? 'bad_request' : 'internal';
    return new AutopilotError(code, err.message || 'request refused');
  }
  return new AutopilotError('internal', 'internal error; it has been logged', { cause: err });
}
