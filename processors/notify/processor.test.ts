import type { KafkaMessage } from 'kafkajs';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Publisher } from '../../platform/publisher.ts';
import { TOPICS, type AlertRecord, type AnalysisRecord, type NotificationDelivery } from '../../schemas/topics.ts';
import type { DocumentStore, StoredDocument } from '../../sql/stores/documents.ts';
import { startReceiver, type Receiver } from '../../test/helpers/receiver.ts';
import { startThrowawayRedis, type ThrowawayRedis } from '../../test/helpers/redis-server.ts';
import type { Decoded } from '../runtime/processor.ts';
import { Cooldown } from './cooldown.ts';
import { sampleAlert, sampleAnalysis } from '../../test/fixtures/notifications.ts';
import { notifyProcessor } from './processor.ts';
import type { NotificationTarget } from '../../tenant-config/notification-targets.ts';

/**
 * The notify processor's handler on a real Redis and a local receiver, fed
 * the same batch again as the runtime does after a crash before the commit.
 * (The crash itself, a SIGKILLed child process, is test/notify-crash.test.ts.)
 */
let redis: ThrowawayRedis;
let hook: Receiver;
let published: NotificationDelivery[][];
let run = 0;

beforeAll(async () => {
  redis = await startThrowawayRedis();
  hook = await startReceiver();
}, 30_000);
afterAll(async () => {
  await hook?.close();
  await redis?.stop();
});
beforeEach(() => {
  hook.bodies.length = 0;
  published = [];
  run++;
});

const target = (id: string): StoredDocument<NotificationTarget> => ({
  id,
  tenant: 'acme',
  created_at: 0,
  updated_at: 0,
  definition: { name: id, kind: 'webhook', url: hook.url, enabled: true },
});

/** A notifier as a fresh process would build it: its own Redis connection, the same consumer group (so the same keys). */
function notifier(targets = [target('t1')], cooldownMs = 60_000) {
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
    config: { cooldownMs, timeoutMs: 5000, retries: 0, backoffMs: 0, allowLoopback: true, publicUrl: 'http://localhost:8080' },
    outcomes,
    groupId: `test-notify-${run}`,
  });
}

/** An ordinary attempt, as the runtime hands it over. */
const ctx = { finalAttempt: false };
const decoded = (value: AnalysisRecord | AlertRecord, offset = 0): Decoded => ({
  topic: 'analysis_id' in value ? TOPICS.analyses.topic : TOPICS.alerts.topic,
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
