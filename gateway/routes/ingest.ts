import { Hono } from 'hono';
import { z } from 'zod';
import { AutopilotError, badRequest } from '../../lib/errors.ts';
import { readJson } from '../body.ts';
import type { TenantEnv } from '../middleware/auth.ts';
import type { MetricSeriesBatch, PublishBatch } from '../../platform/publisher.ts';
import { seriesOf } from '../../schemas/metric-batch.ts';
import { INPUTS, metricSeries, toRecord, type IngestKind } from '../records.ts';
import type { GatewayDeps } from '../deps.ts';

const MAX_ISSUES = 100;

/**
 * JSON ingest: POST /v1/metrics, /v1/logs, /v1/deployments, each taking one
 * object or an array. A batch is all or nothing: one bad item refuses the
 * request and nothing of it reaches Kafka. 202 only after Kafka's ack.
 */
export function ingestRoutes(deps: GatewayDeps): Hono<TenantEnv> {
  const app = new Hono<TenantEnv>();
  for (const [path, kind] of [
    ['/v1/metrics', 'metrics'],
    ['/v1/logs', 'logs'],
    ['/v1/deployments', 'deployments'],
  ] as const) {
    app.post(path, async (c) => {
      const items = parseItems(await readJson(c.req.raw), deps.config.maxBatch);
      deps.telemetry.recordsReceived.inc({ protocol: 'json', kind }, items.length);
      const tenant = c.get('tenant');
      const batch =
        kind === 'metrics'
          ? metricsBatch(tenant, items)
          : ({ kind, records: validate(kind, items).map((item) => toRecord[kind](tenant, item as never)) } as PublishBatch);
      // All or nothing: when it gets here, every item is a record.
      await deps.limiter.spend(tenant, items.length, () => deps.publisher.publishAll([batch]));
      deps.telemetry.recordsAccepted.inc({ protocol: 'json', kind, tenant }, items.length);
      return c.json({ accepted: items.length }, 202);
    });
  }
  return app;
}

/** A JSON body as the items of a batch: one object or an array of them, not empty, at most `maxBatch`. */
export function parseItems(body: unknown, maxBatch: number): unknown[] {
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw badRequest('empty batch');
  if (items.length > maxBatch) {
    throw new AutopilotError('payload_too_large', `batch of ${items.length} items is over the limit of ${maxBatch}; split it`);
  }
  return items;
}

/** Metric points as series: checked by records.ts's metricSeries, or by zod when that one is not sure (zod's errors are the answer). */
function metricsBatch(tenant: string, items: unknown[]): MetricSeriesBatch {
  const series = metricSeries(tenant, items) ?? seriesOf(validate('metrics', items).map((item) => toRecord.metrics(tenant, item as never)));
  return { kind: 'metrics', series };
}

const BATCHES = {
  metrics: z.array(INPUTS.metrics),
  logs: z.array(INPUTS.logs),
  deployments: z.array(INPUTS.deployments),
};

export function validate(kind: IngestKind, items: unknown[]): unknown[] {
  return validateItems(BATCHES[kind] as z.ZodType<unknown[]>, items);
}

/** Every item as `batch` parses it, or a 400 naming each bad item by index and field: all or nothing. */
export function validateItems<T>(batch: z.ZodType<T[]>, items: unknown[]): T[] {
  const parsed = batch.safeParse(items);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const details = issues.slice(0, MAX_ISSUES).map((i) => ({
    index: i.path[0],
    path: i.path.slice(1).join('.'),
    message: i.message,
  }));
  const bad = new Set(issues.map((i) => i.path[0])).size;
  throw new AutopilotError('invalid_records', `${bad} of ${items.length} items are invalid; nothing was written`, {
    details: issues.length > MAX_ISSUES ? [...details, { truncated: issues.length - MAX_ISSUES }] : details,
  });
}
