import { z } from 'zod';
import { sortedCopy, sortKeys } from '../lib/labels.ts';
import { DAY_MS, MAX_FUTURE_MS } from '../lib/time.ts';
import { SeriesSet, seriesHash, type SeriesEntry } from '../schemas/metric-batch.ts';
import type { DeploymentEvent, LogEntry, MetricPoint } from '../schemas/topics.ts';

/**
 * The JSON shapes the gateway accepts, and their mapping to the Avro records
 * in schemas/. Objects are strict: a misspelt field is an error, not data
 * silently dropped.
 */

const MIN_EPOCH_MS = Date.UTC(2000, 0, 1);
/** The raw tables keep 30 days (sql/migrations TTL): older points would be accepted, then silently dropped. */
export const RETENTION_MS = 30 * DAY_MS;
/**
 * How long before it reaches us an alert may have started. A firing alert can
 * last months, and `alerts` keeps 395 days by starts_at (migration 0029), so
 * its start may be far older than the raw tables' retention; a year still
 * keeps out clock and encoding accidents (years 0001, 1899, 1970).
 */
export const ALERT_MAX_AGE_MS = 365 * DAY_MS;

/**
 * ISO 8601 with a zone, or epoch milliseconds; always epoch ms after parsing.
 * Epoch ms first: it is what high-volume senders use, and a union stops at
 * the first member that matches (the messages do not depend on the order).
 */
export const timestamp = z
  .union(
    [
      z
        .number()
        .int('epoch milliseconds must be an integer')
        .refine((n) => n >= MIN_EPOCH_MS, 'epoch milliseconds before 2000-01-01 (seconds sent instead of milliseconds?)'),
      z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
    ],
    { error: 'timestamp must be ISO 8601 with a zone (2026-01-31T12:00:00Z) or epoch milliseconds' },
  )
  .refine((ms) => ms <= Date.now() + MAX_FUTURE_MS, 'timestamp is more than a day in the future')
  .refine((ms) => ms >= Date.now() - RETENTION_MS, 'timestamp is older than the 30-day retention of the raw tables');

export const MAX_LABEL_NAME = 128;
export const MAX_LABEL_VALUE = 2048;
const labelValue = z.union([z.string().max(MAX_LABEL_VALUE), z.number(), z.boolean()]).transform(String);
const labelName = z.string().min(1).max(MAX_LABEL_NAME);

/** Maps with sorted keys: the series key and ClickHouse's Map compare them in order. */
const sortedMap = z.record(labelName, labelValue).transform(sortKeys);

export const MAX_SERVICE = 256;
const service = z.string().min(1).max(MAX_SERVICE);

export const metricInput = z.strictObject({
  timestamp,
  // Prometheus 3 names: any UTF-8 (no control characters, no lone surrogates), at most 200 characters.
  metric_name: z.string().regex(/^[^\p{Cc}\p{Cs}]{1,200}$/u, 'metric_name: 1 to 200 characters of UTF-8 without control characters'),
  value: z.number(), // JSON cannot carry NaN or Infinity, and z.number() refuses them anyway
  labels: z
    .record(labelName, labelValue)
    .refine((l) => typeof l.service === 'string' && l.service.length > 0, {
      message: 'labels.service is required',
    })
    .transform(sortKeys),
});

const knownNames = new Map<string, boolean>();

/** Whether `name` passes metricInput's metric_name rule; answers are remembered, since names repeat. */
export function validMetricName(name: string): boolean {
  let ok = knownNames.get(name);
  if (ok === undefined) {
    ok = metricInput.shape.metric_name.safeParse(name).success;
    if (knownNames.size >= 10_000) knownNames.clear();
    knownNames.set(name, ok);
  }
  return ok;
}

const LEVELS = { trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', error: 'error', fatal: 'fatal', critical: 'fatal' } as const;
export const level = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(Object.keys(LEVELS) as [keyof typeof LEVELS]))
  .transform((s) => LEVELS[s]);

/** The longest log line kept, whatever protocol brought it. */
export const MAX_LOG_LINE = 64 * 1024;

export const logInput = z.strictObject({
  timestamp,
  level,
  message: z.string().max(MAX_LOG_LINE),
  service,
  labels: sortedMap.default({}),
});

/** What a deployment's status is stored as, one spelling each (correlate, the analyst and Grafana read these). */
export const DEPLOYMENT_STATUSES = ['started', 'succeeded', 'failed', 'rolled_back', 'cancelled'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/**
 * The spellings CI/CD tools send, after trimming, lower-casing and turning
 * spaces and dashes into `_`: GitHub Actions (conclusion success, failure,
 * cancelled, timed_out; status in_progress) and its Deployments API (success,
 * failure, error, in_progress); GitLab (running, success, failed, canceled);
 * Jenkins (SUCCESS, FAILURE, ABORTED); Argo CD's sync phase (Running,
 * Succeeded, Failed, Error); Spinnaker (RUNNING, SUCCEEDED, TERMINAL,
 * CANCELED). Health states (Argo's Healthy, Degraded) and queue states
 * (queued, pending) say nothing about how a deployment went, so they are
 * refused like any unknown word.
 */
const DEPLOYMENT_STATUS_SPELLINGS = {
  started: 'started',
  in_progress: 'started',
  running: 'started',
  succeeded: 'succeeded',
  success: 'succeeded',
  successful: 'succeeded',
  failed: 'failed',
  failure: 'failed',
  error: 'failed',
  timed_out: 'failed',
  terminal: 'failed',
  rolled_back: 'rolled_back',
  rollback: 'rolled_back',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  aborted: 'cancelled',
} as const satisfies Record<string, DeploymentStatus>;

const deploymentStatus = z
  .string()
  .transform((s) =>
    s
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_'),
  )
  .pipe(z.enum(Object.keys(DEPLOYMENT_STATUS_SPELLINGS) as [keyof typeof DEPLOYMENT_STATUS_SPELLINGS]))
  .transform((s): DeploymentStatus => DEPLOYMENT_STATUS_SPELLINGS[s])
  // The OpenAPI document shows the input side, a plain string: say there what it may be.
  .describe(`${Object.keys(DEPLOYMENT_STATUS_SPELLINGS).join(', ')} (any case); stored as ${DEPLOYMENT_STATUSES.join(', ')}`);

export const deploymentInput = z.strictObject({
  timestamp,
  service,
  version: z.string().min(1).max(256),
  status: deploymentStatus,
  metadata: sortedMap.default({}),
});

export const INPUTS = { metrics: metricInput, logs: logInput, deployments: deploymentInput } as const;

/** The record kinds producers send; the other topics are written by processors. */
export type IngestKind = keyof typeof INPUTS;

type Parsed<K extends IngestKind> = z.output<(typeof INPUTS)[K]>;

export const toRecord = {
  metrics: (tenant: string, p: Parsed<'metrics'>): MetricPoint => ({ tenant, ...p }),
  logs: (tenant: string, l: Parsed<'logs'>): LogEntry => ({ tenant, ...l }),
  deployments: (tenant: string, d: Parsed<'deployments'>): DeploymentEvent => ({ tenant, ...d }),
};

const METRIC_FIELDS = new Set(['timestamp', 'metric_name', 'value', 'labels']);

/**
 * JSON metric points as series (schemas/metric-batch.ts), checked without
 * zod: at a thousand points a request, zod's per-item work was a fifth of
 * the gateway's time. Accepts exactly what `metricInput` accepts and gives
 * what it gives (labels as sorted strings); a timestamp written as text goes
 * through `metricInput` itself. Undefined as soon as an item might not pass:
 * the caller then asks zod, whose answer (its errors, or the items) stands.
 */
export function metricSeries(tenant: string, items: readonly unknown[], now = Date.now()): SeriesEntry[] | undefined {
  const set = new SeriesSet();
  const oldest = now - RETENTION_MS;
  const newest = now + MAX_FUTURE_MS;
  for (let i = 0; i < items.length; i++) {
    let item = items[i] as Record<string, unknown>;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
    let fields = 0;
    for (const key in item) {
      if (!METRIC_FIELDS.has(key)) return undefined;
      fields++;
    }
    if (fields !== 4) return undefined;
    if (typeof item.timestamp !== 'number') {
      // ISO 8601 text: zod's own union and refinements, for this item.
      const parsed = metricInput.safeParse(item);
      if (!parsed.success) return undefined;
      item = parsed.data;
    }
    const { timestamp, metric_name: name, value } = item;
    if (!Number.isSafeInteger(timestamp) || (timestamp as number) < MIN_EPOCH_MS || (timestamp as number) > newest || (timestamp as number) < oldest)
      return undefined;
    if (typeof name !== 'string' || !validMetricName(name)) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
    const labels = metricLabels(item.labels);
    if (labels === undefined) return undefined;
    set.add(tenant, name, labels, seriesHash(tenant, name, labels), i, timestamp as number, value);
  }
  return set.entries;
}

/** `metricInput.shape.labels` without zod: the labels as sorted strings, or undefined where zod might refuse them. */
function metricLabels(input: unknown): Record<string, string> | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || Object.getPrototypeOf(input) !== Object.prototype) return undefined;
  const labels = input as Record<string, unknown>;
  let strings = true;
  let sorted = true;
  let last = '';
  for (const name in labels) {
    if (name.length === 0 || name.length > MAX_LABEL_NAME) return undefined;
    const value = labels[name];
    if (typeof value === 'string') {
      if (value.length > MAX_LABEL_VALUE) return undefined;
    } else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') strings = false;
    else return undefined;
    if (name < last) sorted = false;
    last = name;
  }
  const service = labels.service;
  if (service === undefined || service === '') return undefined;
  // Already sorted strings (what well-behaved senders send): the parsed object is the answer.
  if (strings && sorted) return labels as Record<string, string>;
  return sortedCopy(labels, String);
}
