import { z } from 'zod';
import { AutopilotError } from '../../lib/errors.ts';
import type { AlertRecord } from '../../schemas/topics.ts';
import { DAY_MS, MAX_FUTURE_MS } from '../../lib/time.ts';
import { ALERT_MAX_AGE_MS, MAX_LABEL_NAME, MAX_SERVICE } from '../records.ts';
import { sortKeys } from '../../lib/labels.ts';
import { labelProblem } from './series-rules.ts';

/**
 * Alertmanager's webhook (webhook_configs), payload version 4, and its
 * mapping to AlertRecords. Unknown keys are ignored rather than refused,
 * unlike the JSON ingest inputs: the payload is Alertmanager's to extend
 * (truncatedAlerts came in 0.24), and a newer Alertmanager must not be
 * turned away for a field this code does not read.
 */

/** Go's zero time: what Alertmanager puts in endsAt while an alert fires. */
const ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');
const isZeroTime = (time: string) => Date.parse(time) === ZERO_TIME_MS;

/**
 * Annotations are prose (summary, description, runbook links), not
 * identifiers: more room than a label value, still far below what a Kafka
 * record can take with a few of them.
 */
export const MAX_ANNOTATION_VALUE = 16 * 1024;

const time = z.iso.datetime({ offset: true, error: 'RFC 3339 time with a zone, as Alertmanager sends' });
const stringMap = z.record(z.string(), z.string());
const status = z.enum(['firing', 'resolved']);

export const alertmanagerAlert = z.object({
  status,
  labels: stringMap,
  annotations: stringMap.default({}),
  startsAt: time,
  endsAt: time.optional(),
  generatorURL: z.string().default(''),
  fingerprint: z.string().min(1, 'fingerprint is required: it identifies the alert across notifications'),
});

export const alertmanagerWebhook = z.object({
  version: z.literal('4', { error: 'only webhook payload version "4" is read' }),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status,
  receiver: z.string(),
  groupLabels: stringMap.default({}),
  commonLabels: stringMap.default({}),
  commonAnnotations: stringMap.default({}),
  externalURL: z.string().default(''),
  alerts: z.array(alertmanagerAlert),
});

export type AlertmanagerWebhook = z.output<typeof alertmanagerWebhook>;

/**
 * A parsed JSON body as a webhook payload, or a 400 that lists what is wrong,
 * field by field (`alerts.<index>.<field>`). The webhook is all or nothing:
 * one alert out of bounds refuses the notification. Bounds, against `now`:
 * startsAt within [now − ALERT_MAX_AGE_MS, now + MAX_FUTURE_MS]; endsAt, unless
 * Go's zero time, from startsAt to now + MAX_FUTURE_MS; labels as on the other
 * ingest paths (records.ts), the service label as records.ts `service`;
 * annotation values up to MAX_ANNOTATION_VALUE.
 */
export function parseAlertmanagerWebhook(body: unknown, now = Date.now()): AlertmanagerWebhook {
  const parsed = alertmanagerWebhook.safeParse(body);
  if (!parsed.success) refuse(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  const issues = parsed.data.alerts.flatMap((alert, index) => alertIssues(alert, now).map((i) => ({ path: `alerts.${index}.${i.path}`, message: i.message })));
  if (issues.length > 0) refuse(issues);
  return parsed.data;
}

type Issue = { path: string; message: string };

function refuse(issues: Issue[]): never {
  const details = issues.slice(0, 100);
  const summary = details.slice(0, 3).map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
  throw new AutopilotError('bad_request', `invalid Alertmanager webhook: ${summary.join('; ')}`, { details });
}

/**
 * Times and sizes zod's shape does not hold. Without them, years 0001 and
 * 9999 overflowed ClickHouse's DateTime (no row, no dead letter) and 1899 or
 * 2300 landed in wrapped partitions; a 100 KB service label was stored.
 */
function alertIssues(a: z.output<typeof alertmanagerAlert>, now: number): Issue[] {
  const issues: Issue[] = [];
  const latest = now + MAX_FUTURE_MS;
  const starts = Date.parse(a.startsAt);
  if (Number.isNaN(starts)) issues.push({ path: 'startsAt', message: `${a.startsAt} is not a valid time` });
  else if (starts < now - ALERT_MAX_AGE_MS) issues.push({ path: 'startsAt', message: `${a.startsAt} is more than ${ALERT_MAX_AGE_MS / DAY_MS} days ago` });
  else if (starts > latest) issues.push({ path: 'startsAt', message: `${a.startsAt} is more than ${MAX_FUTURE_MS / DAY_MS} day in the future` });
  if (a.endsAt !== undefined && !isZeroTime(a.endsAt)) {
    const ends = Date.parse(a.endsAt);
    if (Number.isNaN(ends)) issues.push({ path: 'endsAt', message: `${a.endsAt} is not a valid time` });
    else if (ends < starts) issues.push({ path: 'endsAt', message: `${a.endsAt} is before startsAt` });
    else if (ends > latest) issues.push({ path: 'endsAt', message: `${a.endsAt} is more than ${MAX_FUTURE_MS / DAY_MS} day in the future` });
  }
  const labels = labelProblem(a.labels);
  const service = serviceLabel(a.labels);
  if (labels !== undefined) issues.push({ path: 'labels', message: labels });
  else if (service !== undefined && a.labels[service]!.length > MAX_SERVICE) {
    issues.push({ path: `labels.${service}`, message: `the service (label ${service}) is longer than ${MAX_SERVICE} characters` });
  }
  for (const name in a.annotations) {
    if (name.length === 0 || name.length > MAX_LABEL_NAME) {
      issues.push({ path: 'annotations', message: `an annotation name is empty or longer than ${MAX_LABEL_NAME} characters` });
    } else if (a.annotations[name]!.length > MAX_ANNOTATION_VALUE) {
      issues.push({ path: `annotations.${name}`, message: `longer than ${MAX_ANNOTATION_VALUE} characters` });
    }
  }
  return issues;
}

const SERVICE_LABELS = ['service', 'job', 'app'] as const;

/** The label the alert's service comes from: the first non-empty of service, job, app. */
function serviceLabel(labels: Record<string, string>): string | undefined {
  return SERVICE_LABELS.find((name) => labels[name]);
}

/**
 * One AlertRecord per alert of the notification. service: the first of the
 * labels service, job, app; else 'unknown'. A firing alert has not ended, so
 * its ends_at is null whatever endsAt says; a resolved one's is its endsAt.
 * alert_id is `${fingerprint}:${status}:${starts_at}`, so a notification
 * Alertmanager repeats (repeat_interval, a retry) is the same record again.
 */
export function toAlertRecords(tenant: string, payload: AlertmanagerWebhook, receivedAt: number): AlertRecord[] {
  return payload.alerts.map((a) => {
    const starts_at = Date.parse(a.startsAt);
    const ends_at = a.status === 'firing' || a.endsAt === undefined || isZeroTime(a.endsAt) ? null : Date.parse(a.endsAt);
    const service = serviceLabel(a.labels);
    return {
      alert_id: `${a.fingerprint}:${a.status}:${starts_at}`,
      tenant,
      service: service === undefined ? 'unknown' : a.labels[service]!,
      source: 'alertmanager',
      alert_name: a.labels.alertname || 'unknown',
      status: a.status,
      severity: a.labels.severity || 'warning',
      fingerprint: a.fingerprint,
      labels: sortKeys(a.labels),
      annotations: sortKeys(a.annotations),
      starts_at,
      ends_at,
      received_at: receivedAt,
      generator_url: a.generatorURL === '' ? null : a.generatorURL,
      rule_id: null,
      value: null,
    };
  });
}
