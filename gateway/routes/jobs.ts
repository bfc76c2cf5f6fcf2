import { Hono } from 'hono';
import { z } from 'zod';
import { AutopilotError, unavailable } from '../../lib/errors.ts';
import { JOB_KINDS, parseJob, redactJob, type Job } from '../../tenant-config/jobs.ts';
import type { StoredDocument } from '../../sql/stores/documents.ts';
import { parseWith } from '../body.ts';
import type { GatewayDeps } from '../deps.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import { requireStores } from '../stores.ts';
import { documentRoutes } from './documents.ts';

/**
 * Scheduled jobs (the scheduler runs them): CRUD at /v1/jobs, pause and
 * resume (the job's `enabled`), a run now (taken by whichever scheduler
 * claims it), a job's runs with counts by outcome, what extraction jobs
 * produced, and the current state of every watched third-party status page.
 * Header values (tokens) are never shown back.
 */
const runsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  outcome: z.enum(['success', 'failure', 'timeout', 'skipped']).optional(),
  before: z.coerce.number().int().positive().optional(),
});

const extractionsQuery = z.strictObject({
  job_id: z.string().min(1).max(64).optional(),
  status: z.enum(['ok', 'invalid', 'model_unavailable']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
});

const statusQuery = z.strictObject({ provider: z.string().min(1).max(100).optional() });

export function jobRoutes(deps: Pick<GatewayDeps, 'stores' | 'allowLoopbackTargets' | 'triggers'>): Hono<TenantEnv> {
  const allowLoopback = deps.allowLoopbackTargets ?? false;
  const store = () => requireStores(deps.stores).jobs;
  const present = (d: StoredDocument<Job>) => ({ id: d.id, ...redactJob(d.definition), created_at: d.created_at, updated_at: d.updated_at });
  const found = async (tenant: string, id: string) => {
    const job = await store().get(tenant, id);
    if (!job) throw new AutopilotError('not_found', `no job ${id}`);
    return job;
  };
  const app = new Hono<TenantEnv>();

  // Registered before the CRUD routes' /v1/jobs/:id, which would otherwise take "kinds".
  app.get('/v1/jobs/kinds', (c) => c.json({ kinds: JOB_KINDS }));

  for (const [action, enabled] of [
    ['pause', false],
    ['resume', true],
  ] as const) {
    app.post(`/v1/jobs/:id/${action}`, async (c) => {
      const job = await found(c.get('tenant'), c.req.param('id'));
      if (job.definition.enabled === enabled) return c.json(present(job));
      return c.json(present(await store().replace(job, { ...job.definition, enabled })));
    });
  }

  app.post('/v1/jobs/:id/trigger', async (c) => {
    const job = await found(c.get('tenant'), c.req.param('id'));
    if (!deps.triggers) throw unavailable('manual runs go through Redis, which this gateway is not connected to');
    const r = await deps.triggers.request(job.tenant, job.id);
    // The request id is the run's id: GET /v1/jobs/{id}/runs shows it once a scheduler has run it.
    return c.json({ run_id: r.request_id, job_id: job.id, requested_at: r.requested_at }, 202);
  });

  app.get('/v1/jobs/:id/runs', async (c) => {
    const tenant = c.get('tenant');
    const job = await found(tenant, c.req.param('id'));
    const q = parseWith(runsQuery, c.req.query(), 'query');
    const results = requireStores(deps.stores).jobResults;
    const [items, counts] = await Promise.all([results.runs(tenant, job.id, q), results.counts(tenant, [job.id])]);
    const none = { total: 0, success: 0, failure: 0, timeout: 0, skipped: 0, last_run_at: null, last_outcome: null };
    return c.json({ job_id: job.id, counts: counts.get(job.id) ?? none, items });
  });

  app.get('/v1/extractions', async (c) => {
    const q = parseWith(extractionsQuery, c.req.query(), 'query');
    const items = await requireStores(deps.stores).jobResults.extractions(c.get('tenant'), {
      limit: q.limit,
      jobId: q.job_id,
      status: q.status,
      before: q.before,
    });
    return c.json({ items });
  });

  app.get('/v1/external-status', async (c) => {
    const q = parseWith(statusQuery, c.req.query(), 'query');
    const subjects = await requireStores(deps.stores).jobResults.externalStatus(c.get('tenant'), q.provider);
    const providers = new Map<string, typeof subjects>();
    for (const s of subjects) providers.set(s.provider, [...(providers.get(s.provider) ?? []), s]);
    return c.json({
      providers: [...providers].map(([provider, items]) => ({
        provider,
        degraded: items.some((s) => s.degraded),
        subjects: items.map(({ provider: _, ...s }) => s),
      })),
    });
  });

  app.route(
    '/',
    documentRoutes<Job>({
      path: '/v1/jobs',
      what: 'job',
      store,
      parse: (body) => parseJob(body, { allowLoopback }),
      present,
    }),
  );
  return app;
}
