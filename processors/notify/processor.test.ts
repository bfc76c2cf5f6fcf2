import avro from 'avsc';
import type { KafkaMessage } from 'kafkajs';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Publisher } from '../../platform/publisher.ts';
import { TOPICS, type AlertRecord, type AnalysisRecord, type NotificationDelivery, type ProposalRecord } from '../../schemas/topics.ts';
import type { DocumentStore, StoredDocument } from '../../sql/stores/documents.ts';
import { startReceiver, type Receiver } from '../../test/helpers/receiver.ts';
import { startThrowawayRedis, type ThrowawayRedis } from '../../test/helpers/redis-server.ts';
import type { Decoded } from '../runtime/processor.ts';
import { Cooldown } from './cooldown.ts';
import { sampleAlert, sampleAnalysis } from '../../test/fixtures/notifications.ts';
import { notifyProcessor } from './processor.ts';
import type { NotificationTarget } from '../../tenant-config/notification-targets.ts';
import type { RemediationSettings } from '../../tenant-config/remediation-policies.ts';
import { proposalAt, sampleProposal } from './sample-proposal.ts';

/**
 * The notify processor's handler on a real Redis and a local receiver, fed
 * the same batch again as the runtime does after a crash before the commit.
 * (The crash itself, a SIGKILLed child process, is test/notify-crash.test.ts.)
 */
let redis: ThrowawayRedis;
let hook: Receiver;
/** Stands in for Slack's incoming webhook. */
let slackHook: Receiver;
let published: NotificationDelivery[][];
let run = 0;

beforeAll(async () => {
  redis = await startThrowawayRedis();
  hook = await startReceiver();
  slackHook = await startReceiver();
}, 30_000);
afterAll(async () => {
  await hook?.close();
  await slackHook?.close();
  await redis?.stop();
});
beforeEach(() => {
  hook.bodies.length = 0;
  slackHook.bodies.length = 0;
  published = [];
  run++;
});

const target = (id: string, definition: Partial<NotificationTarget> = {}): StoredDocument<NotificationTarget> => ({
  id,
  tenant: 'acme',
  created_at: 0,
  updated_at: 0,
  definition: { name: id, kind: 'webhook', url: hook.url, enabled: true, ...definition } as NotificationTarget,
});
const slackTarget = (id: string) => target(id, { kind: 'slack', url: slackHook.url, min_severity: 'critical' });

/** A notifier as a fresh process would build it: its own Redis connection, the same consumer group (so the same keys). */
function notifier(targets = [target('t1')], cooldownMs = 60_000, settings?: RemediationSettings) {
  const publisher = { publish: async (_kind: string, rows: NotificationDelivery[]) => void published.push(rows) } as unknown as Publisher;
  const store = { list: async () => targets } as unknown as DocumentStore<NotificationTarget>;
  const outcomes = new Counter({
    name: `notifications_${run}_${Math.random().toString(36).slice(2)}`,
    help: 'test',
    labelNames: ['outcome', 'target_kind', 'reason'],
    registers: [new Registry()],
  });
  return notifyProcessor({
    redis: redis.client(),
    publisher,
    targets: store,
    remediationSettings: { list: async () => (settings ? [{ id: 's', tenant: 'acme', created_at: 0, updated_at: 0, definition: settings }] : []) },
    config: { cooldownMs, timeoutMs: 5000, retries: 0, backoffMs: 0, allowLoopback: true, publicUrl: 'http://localhost:8080' },
    outcomes,
    groupId: `test-notify-${run}`,
  });
}

/** An ordinary attempt, as the runtime hands it over. */
const ctx = { finalAttempt: false };
const decoded = (value: AnalysisRecord | AlertRecord | ProposalRecord, offset = 0): Decoded => ({
  topic: 'proposal_id' in value ? TOPICS.proposals.topic : 'analysis_id' in value ? TOPICS.analyses.topic : TOPICS.alerts.topic,
  partition: 0,
  offset: String(offset),
  value,
  message: {} as KafkaMessage,
});

describe('notify across a replay', () => {
  it('delivers a notice whose cooldown its crashed predecessor took but never delivered', async () => {
    const alert = sampleAlert();
    // What the killed process left: the cooldown taken by this very alert, nothing delivered, nothing recorded.
    await new Cooldown(redis.client(), `test-notify-${run}`).claim('acme', 'checkout', `alert_firing:${alert.alert_name}`, alert.alert_id, 60_000);
    await notifier().handle([decoded(alert)], ctx);
    // Before this change the cooldown was not named and this was 'suppressed', with nothing sent.
    expect(published.flat().map((r) => r.outcome)).toEqual(['delivered']);
    expect(hook.bodies).toHaveLength(1);
  });

  it('sends nothing again when a finished batch is replayed, and publishes the same rows', async () => {
    const batch = [decoded(sampleAnalysis()), decoded(sampleAlert(), 1)];
    await notifier().handle(batch, ctx);
    expect(hook.bodies).toHaveLength(2);
    await notifier().handle(batch, ctx);
    expect(hook.bodies).toHaveLength(2);
    expect(published[1]).toEqual(published[0]);
    expect(published[0]!.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
  });

  it('sends only to the targets a crash left out', async () => {
    const analysis = sampleAnalysis();
    await notifier([target('t1')]).handle([decoded(analysis)], ctx);
    expect(hook.bodies).toHaveLength(1);
    // The replay sees a second target (as if the crash came between the two deliveries).
    await notifier([target('t1'), target('t2')]).handle([decoded(analysis)], ctx);
    expect(hook.bodies).toHaveLength(2);
    expect(published[1]!.map((r) => [r.target_id, r.outcome])).toEqual([
      ['t1', 'delivered'],
      ['t2', 'delivered'],
    ]);
    expect(published[1]![0]).toEqual(published[0]![0]);
  });

  it('keeps a suppressed notice suppressed on a replay after its cooldown ran out', async () => {
    const first = sampleAnalysis();
    const second = sampleAnalysis({ analysis_id: 'an-2', incident_id: 'inc-43' });
    await notifier(undefined, 300).handle([decoded(first), decoded(second, 1)], ctx);
    expect(published[0]!.map((r) => r.outcome)).toEqual(['delivered', 'suppressed']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await notifier(undefined, 300).handle([decoded(second, 1)], ctx);
    expect(published[1]!.map((r) => r.outcome)).toEqual(['suppressed']);
    expect(hook.bodies).toHaveLength(1);
  });

  it('still suppresses another analysis of the same incident within the cooldown', async () => {
    await notifier().handle([decoded(sampleAnalysis()), decoded(sampleAnalysis({ analysis_id: 'an-1b' }), 1)], ctx);
    expect(published[0]!.map((r) => r.outcome)).toEqual(['delivered', 'suppressed']);
    expect(hook.bodies).toHaveLength(1);
  });
});

/** A proposal as the runtime hands it over: through its Avro schema and back, as it travels on autopilot.proposals. */
const proposalType = avro.Type.forSchema(JSON.parse(TOPICS.proposals.schema) as avro.Schema);
const onTheWire = (p: ProposalRecord): ProposalRecord => proposalType.fromBuffer(proposalType.toBuffer(p)) as ProposalRecord;

describe('notify: remediation proposals', () => {
  const lifecycle = (['proposed', 'approved', 'executing', 'succeeded', 'effective'] as const).map((s) => onTheWire(proposalAt(s)));
  const batchOf = (records: ProposalRecord[]) => records.map((r, i) => decoded(r, i));
  const settings: RemediationSettings = { approvers: [], slack_target_id: 'ops' };
  type SlackBody = { text: string; blocks: { type: string; elements?: { action_id?: string; value?: string }[] }[] };

  it('asks the named Slack target once for a decision, then tells it each outcome once, the cooldown notwithstanding', async () => {
    // A second proposal on the same service, right after: a cooldown on (tenant, service, reason) would hold it back.
    const other = onTheWire(sampleProposal({ proposal_id: 'pr-8b1c', variables: { severity: 'medium' } }));
    await notifier([target('t1'), slackTarget('ops')], 60_000, settings).handle(batchOf([...lifecycle, other]), ctx);

    expect(published[0]!.map((r) => [r.target_id, r.reason, r.subject_id, r.outcome])).toEqual([
      ['ops', 'proposal_proposed', 'pr-7f3a:1', 'delivered'],
      ['ops', 'proposal_succeeded', 'pr-7f3a:4', 'delivered'],
      ['ops', 'proposal_effective', 'pr-7f3a:5', 'delivered'],
      ['ops', 'proposal_proposed', 'pr-8b1c:1', 'delivered'],
    ]);
    // Only the named target, though the webhook takes every severity and the Slack target's filter (critical) would drop pr-8b1c.
    expect(hook.bodies).toEqual([]);
    const bodies = slackHook.bodies as SlackBody[];
    expect(bodies).toHaveLength(4);
    const buttons = bodies[0]!.blocks.find((b) => b.type === 'actions')!.elements!.map((e) => [e.action_id, e.value]);
    expect(buttons).toEqual([
      ['approve_proposal', 'pr-7f3a'],
      ['reject_proposal', 'pr-7f3a'],
    ]);
    expect(bodies[1]!.text).toMatch(/^:white_check_mark: Ran \*Roll back checkout\* on \*checkout\*: HTTP 204/);
    expect(bodies[2]!.text).toMatch(/worked: incident .*inc-42.* resolved within 15m/);
    expect(bodies.slice(1, 3).every((b) => !b.blocks.some((x) => x.type === 'actions'))).toBe(true);
    // Before proposals were read this batch delivered nothing; under the cooldown (tried), pr-8b1c was suppressed, and with one reason for every version only pr-7f3a:1 went out.
  });

  it('sends nothing again when the batch is replayed, and publishes the same rows', async () => {
    const batch = batchOf(lifecycle);
    await notifier([slackTarget('ops')], 60_000, settings).handle(batch, ctx);
    await notifier([slackTarget('ops')], 60_000, settings).handle(batch, ctx);
    expect(slackHook.bodies).toHaveLength(3);
    expect(published[1]).toEqual(published[0]);
    // One delivery row per version and target, never the same id for two versions.
    expect(new Set(published[0]!.map((r) => r.delivery_id)).size).toBe(3);
  });

  it('goes to every enabled target by severity without settings; webhooks get the API calls that decide it', async () => {
    const auto = onTheWire(sampleProposal({ proposal_id: 'pr-auto', mode: 'auto', risk: 'low' }));
    await notifier([target('t1'), slackTarget('ops'), target('off', { enabled: false })]).handle(batchOf([auto, lifecycle[0]!]), ctx);
    // The auto proposal says nothing at proposal time; the one waiting for approval reaches both enabled targets (its severity is critical).
    expect(published[0]!.map((r) => [r.target_id, r.subject_id])).toEqual([
      ['t1', 'pr-7f3a:1'],
      ['ops', 'pr-7f3a:1'],
    ]);
    expect(hook.bodies).toEqual([
      expect.objectContaining({
        type: 'proposal.proposed',
        id: 'pr-7f3a:1',
        approve: { method: 'POST', path: '/v1/proposals/pr-7f3a/approve', url: 'http://localhost:8080/v1/proposals/pr-7f3a/approve' },
        reject: expect.objectContaining({ path: '/v1/proposals/pr-7f3a/reject' }),
      }),
    ]);
    expect(slackHook.bodies).toHaveLength(1);
  });
});
