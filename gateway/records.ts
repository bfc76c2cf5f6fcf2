import { z } from 'zod';
import { sortKeys } from '../lib/labels.ts';
import { DAY_MS, MAX_FUTURE_MS } from '../lib/time.ts';
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

const LEVELS = { trace: 'trace', debug: 'debug', info: 'info', warn: 'warn', warning: 'warn', error: 'error', fatal: 'fatal', critical: 'fatal' } as const;
export const level = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(Object.keys(LEVELS) as [keyof typeof LEVELS]))
  .transform((s) => LEVELS[s]);

export const logInput = z.strictObject({
  timestamp,
  level,
  message: z.string().max(64 * 1024),
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
