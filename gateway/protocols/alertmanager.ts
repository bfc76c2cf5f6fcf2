import { z } from 'zod';
import { AutopilotError } from '../../lib/errors.ts';
import type { AlertRecord } from '../../schemas/topics.ts';
import { sortKeys } from '../records.ts';

/**
 * Alertmanager's webhook (webhook_configs), payload version 4, and its
 * mapping to AlertRecords. Unknown keys are ignored rather than refused,
 * unlike the JSON ingest inputs: the payload is Alertmanager's to extend
 * (truncatedAlerts came in 0.24), and a newer Alertmanager must not be
 * turned away for a field this code does not read.
 */

/** Go's zero time: what Alertmanager puts in endsAt while an alert fires. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

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

/** A parsed JSON body as a webhook payload, or a 400 that lists what is wrong, field by field. */
export function parseAlertmanagerWebhook(body: unknown): AlertmanagerWebhook {
  const parsed = alertmanagerWebhook.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.slice(0, 100).map((i) => ({ path: i.path.join('.'), message: i.message }));
  const summary = details.slice(0, 3).map((d) => (d.path ? `${d.path}: ${d.message}` : d.message));
  throw new AutopilotError('bad_request', `invalid Alertmanager webhook: ${summary.join('; ')}`, { details });
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
    const ends_at = a.status === 'firing' || a.endsAt === undefined || a.endsAt === ZERO_TIME ? null : Date.parse(a.endsAt);
    return {
      alert_id: `${a.fingerprint}:${a.status}:${starts_at}`,
      tenant,
      service: a.labels.service || a.labels.job || a.labels.app || 'unknown',
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
