import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import type { Publisher } from '../../platform/publisher.ts';
import { DocumentStore, type StoredDocument } from '../../sql/stores/documents.ts';
import { TOPICS, type AlertRecord, type AnalysisRecord, type NotificationDelivery, type ProposalRecord } from '../../schemas/topics.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { notifyConfig, type NotifyConfig } from './config.ts';
import { Cooldown } from './cooldown.ts';
import { deliver } from './deliver.ts';
import { FinishedDeliveries } from './finished.ts';
import { slackAlertMessage, slackMessage } from './slack.ts';
import { wantsSeverity, type NotificationTarget } from '../../tenant-config/notification-targets.ts';
import { ruleAlertNoticeSeverity } from '../../lib/severity.ts';
import { alertPayload, incidentAnalyzedPayload } from './webhook.ts';
import type { RemediationSettings } from '../../tenant-config/remediation-policies.ts';
import { slackProposalMessage } from './proposal-slack.ts';
import { proposalPayload } from './proposal-webhook.ts';
import { proposalNews, proposalTargets } from './proposals.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { notifyTelemetry } from './telemetry.ts';

/**
 * The notify processor: each analysed incident, and each alert an Autopilot
 * rule fires or resolves, goes to the tenant's targets (Slack incoming
 * webhooks, JSON webhooks). One notification per tenant, service and reason
 * within the cooldown, whichever process sends it (Redis SET NX). So does
 * each version of a remediation proposal that people must hear about
 * (proposals.ts: a request for approval with Approve / Reject buttons, a
 * suggestion, an outcome), once per version and outside the cooldown. Every
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
  /** The record this notice comes from (analysis id, alert id, proposal id and version): the same after a replay, another for another record. */
  notice_id: string;
  /**
   * Whether the cooldown on (tenant, service, reason) applies. Not to a
   * proposal: each of its versions is news on its own (a request for a
   * decision, then what came of it, within minutes), and a decision
   * request held back would be a proposal nobody can approve.
   */
  cooldown: boolean;
  /** Which of the tenant's targets get it. */
  choose: (targets: StoredDocument<NotificationTarget>[]) => StoredDocument<NotificationTarget>[];
  slack: () => unknown;
  webhook: () => unknown;
}

export function notifyProcessor(deps: {
  redis: Redis;
  publisher: Publisher;
  targets: DocumentStore<NotificationTarget>;
  /** The tenant's remediation settings (one document): where proposals go. */
  remediationSettings: Pick<DocumentStore<RemediationSettings>, 'list'>;
  config: NotifyConfig;
  outcomes: Counter<'outcome' | 'target_kind' | 'reason'>;
  groupId: string;
}): ProcessorSpec {
  const cooldown = new Cooldown(deps.redis, deps.groupId);
  const finished = new FinishedDeliveries(deps.redis, deps.groupId);
  const incidentUrl = (id: string) => `${deps.config.publicUrl}/v1/incidents/${encodeURIComponent(id)}`;

  const bySeverity = (severity: string) => (targets: StoredDocument<NotificationTarget>[]) =>
    targets.filter((t) => t.definition.enabled && wantsSeverity(t.definition, severity));

  const proposalNotice = async (p: ProposalRecord): Promise<Notice | null> => {
    if (proposalNews(p) === null) return null;
    const settings = (await deps.remediationSettings.list(p.tenant))[0]?.definition;
    const url = p.incident_id === null ? null : incidentUrl(p.incident_id);
    const id = `${p.proposal_id}:${p.version}`;
    return {
      tenant: p.tenant,
      service: p.service,
      reason: `proposal_${p.status}`,
      subject_id: id,
      notice_id: id,
      cooldown: false,
      choose: (targets) => proposalTargets(targets, settings, p.variables.severity),
      slack: () => slackProposalMessage(p, url),
      webhook: () => proposalPayload(p, { publicUrl: deps.config.publicUrl, incidentUrl: url }),
    };
  };

  const toNotice = async (d: Decoded): Promise<Notice | null> => {
    if (d.topic === TOPICS.proposals.topic) return proposalNotice(d.value as ProposalRecord);
    if (d.topic === TOPICS.analyses.topic) {
      const a = d.value as AnalysisRecord;
      return {
        tenant: a.tenant,
        service: a.service,
        reason: 'incident',
        subject_id: a.incident_id,
        notice_id: a.analysis_id,
        cooldown: true,
        choose: bySeverity(a.severity),
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
      cooldown: true,
      choose: bySeverity(ruleAlertNoticeSeverity(alert.severity)),
      slack: () => slackAlertMessage(alert),
      webhook: () => alertPayload(alert),
    };
  };

  const notify = async (n: Notice): Promise<NotificationDelivery[]> => {
    const targets = n.choose(await deps.targets.list(n.tenant));
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
    const mayNotify = !n.cooldown || (await cooldown.claim(n.tenant, n.service, n.reason, n.notice_id, deps.config.cooldownMs));
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
      const notice = await toNotice(d);
      if (notice) deliveries.push(...(await notify(notice)));
    }
    await deps.publisher.publish('notifications', deliveries);
    for (const r of deliveries) deps.outcomes.inc({ outcome: r.outcome, target_kind: r.target_kind, reason: r.reason.split(':')[0]! });
    return { rejected: [] };
  };

  return { name: 'notify', groupId: deps.groupId, topics: [TOPICS.analyses.topic, TOPICS.alerts.topic, TOPICS.proposals.topic], handle };
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
      remediationSettings: new DocumentStore<RemediationSettings>(s.clickhouse(), 'remediation_settings'),
      config,
      outcomes: notifyTelemetry(s.registry).outcomes,
      groupId: s.groupId,
    }),
});
