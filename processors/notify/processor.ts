import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import type { Publisher } from '../../platform/publisher.ts';
import { DocumentStore } from '../../sql/stores/documents.ts';
import { TOPICS, type AlertRecord, type AnalysisRecord, type NotificationDelivery } from '../../schemas/topics.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { notifyConfig, type NotifyConfig } from './config.ts';
import { Cooldown } from './cooldown.ts';
import { deliver } from './deliver.ts';
import { FinishedDeliveries } from './finished.ts';
import { slackAlertMessage, slackMessage } from './slack.ts';
import { wantsSeverity, type NotificationTarget } from '../../tenant-config/notification-targets.ts';
import { ruleAlertNoticeSeverity } from '../../lib/severity.ts';
import { alertPayload, incidentAnalyzedPayload } from './webhook.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { notifyTelemetry } from './telemetry.ts';

/**
 * The notify processor: each analysed incident, and each alert an Autopilot
 * rule fires or resolves, goes to the tenant's targets (Slack incoming
 * webhooks, JSON webhooks). One notification per tenant, service and reason
 * within the cooldown, whichever process sends it (Redis SET NX). Every
 * delivery, suppressed ones included, is published to
 * `autopilot.notifications` and lands in ClickHouse. Alertmanager's own
 * alerts are not sent on: Alertmanager already notified about them.
 *
 * At least once across a crash: the cooldown names the notice holding it,
 * so the replay of a notice killed between taking the cooldown and
 * delivering still delivers; each outcome is recorded in Redis before the
 * commit, so a replay after a finished delivery does not send again.
 */
interface Notice {
  tenant: string;
  service: string;
  reason: string;
  subject_id: string;
  /** The record this notice comes from (analysis id, alert id): the same after a replay, another for another record. */
  notice_id: string;
  severity: string;
  slack: () => unknown;
  webhook: () => unknown;
}

export function notifyProcessor(deps: {
  redis: Redis;
  publisher: Publisher;
  targets: DocumentStore<NotificationTarget>;
  config: NotifyConfig;
  outcomes: Counter<'outcome' | 'target_kind' | 'reason'>;
  groupId: string;
}): ProcessorSpec {
  const cooldown = new Cooldown(deps.redis, deps.groupId);
  const finished = new FinishedDeliveries(deps.redis, deps.groupId);
  const incidentUrl = (id: string) => `${deps.config.publicUrl}/v1/incidents/${encodeURIComponent(id)}`;

  const toNotice = (d: Decoded): Notice | null => {
    if (d.topic === TOPICS.analyses.topic) {
      const a = d.value as AnalysisRecord;
      return {
        tenant: a.tenant,
        service: a.service,
        reason: 'incident',
        subject_id: a.incident_id,
        notice_id: a.analysis_id,
        severity: a.severity,
        slack: () => slackMessage(a, incidentUrl(a.incident_id)),
        webhook: () => incidentAnalyzedPayload(a, incidentUrl(a.incident_id)),
      };
    }
    const alert = d.value as AlertRecord;
    if (alert.source !== 'rule') return null;
    return {
      tenant: alert.tenant,
      service: alert.service,
      reason: `alert_${alert.status}:${alert.alert_name}`,
      subject_id: alert.alert_id,
      notice_id: alert.alert_id,
      severity: ruleAlertNoticeSeverity(alert.severity),
      slack: () => slackAlertMessage(alert),
      webhook: () => alertPayload(alert),
    };
  };

  const notify = async (n: Notice): Promise<NotificationDelivery[]> => {
    const targets = (await deps.targets.list(n.tenant)).filter((t) => t.definition.enabled && wantsSeverity(t.definition, n.severity));
    if (targets.length === 0) return [];
    const at = Date.now();
    const rows = targets.map(({ id, definition }) => ({
      target: definition,
      // Stable per subject and target: a replayed notice is the same delivery row.
      base: {
        tenant: n.tenant,
        service: n.service,
        target_id: id,
        target_kind: definition.kind,
        reason: n.reason,
        subject_id: n.subject_id,
        at,
        delivery_id: deliveryIdOf(n, id),
      },
    }));
    // A replay (after a crash, before the commit) repeats what was decided and sent, and sends only what was not.
    const done = await finished.find(
      n.tenant,
      n.notice_id,
      rows.map((r) => r.base.target_id),
    );
    if (done.every((d) => d !== null)) return done as NotificationDelivery[];
    const mayNotify = await cooldown.claim(n.tenant, n.service, n.reason, n.notice_id, deps.config.cooldownMs);
    return Promise.all(
      rows.map(async ({ target, base }, i): Promise<NotificationDelivery> => {
        if (done[i]) return done[i]!;
        const row: NotificationDelivery = mayNotify
          ? {
              ...base,
              ...(await deliver(target, target.kind === 'slack' ? n.slack() : n.webhook(), {
                timeoutMs: deps.config.timeoutMs,
                retries: deps.config.retries,
                backoffMs: deps.config.backoffMs,
                allowLoopback: deps.config.allowLoopback,
              })),
            }
          : { ...base, outcome: 'suppressed', attempts: 0, status_code: null, error: null, duration_ms: 0 };
        // Killed after the receiver's 2xx and before this write, the replay sends it again: the one duplicate (see FinishedDeliveries).
        await finished.record(n.notice_id, row);
        return row;
      }),
    );
  };

  const handle = async (batch: Decoded[]) => {
    const deliveries: NotificationDelivery[] = [];
    for (const d of batch) {
      const notice = toNotice(d);
      if (notice) deliveries.push(...(await notify(notice)));
    }
    await deps.publisher.publish('notifications', deliveries);
    for (const r of deliveries) deps.outcomes.inc({ outcome: r.outcome, target_kind: r.target_kind, reason: r.reason.split(':')[0]! });
    return { rejected: [] };
  };

  return { name: 'notify', groupId: deps.groupId, topics: [TOPICS.analyses.topic, TOPICS.alerts.topic], handle };
}

function deliveryIdOf(n: Notice, targetId: string): string {
  return createHash('sha256').update(`${n.reason}\u0000${n.subject_id}\u0000${targetId}`).digest('hex').slice(0, 32);
}

export const notify = defineProcessor({
  name: 'notify',
  needsClickHouse: true,
  config: notifyConfig,
  create: (config, s) =>
    notifyProcessor({
      redis: s.redis,
      publisher: s.publisher,
      targets: new DocumentStore(s.clickhouse(), 'notification_targets'),
      config,
      outcomes: notifyTelemetry(s.registry).outcomes,
      groupId: s.groupId,
    }),
});
