import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sampleAlert } from './fixtures/notifications.ts';
import { parseTarget } from '../tenant-config/notification-targets.ts';
import { partitionOf, TOPICS } from '../schemas/topics.ts';
import { createClickHouse } from '../sql/client.ts';
import { migrate } from '../sql/migrate.ts';
import { DocumentStore } from '../sql/stores/documents.ts';
import { adminUrl, runComponent } from './helpers/child.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { startReceiver, type Receiver } from './helpers/receiver.ts';

/**
 * The notifier as its own process (`autopilot run notify`), SIGKILLed while
 * a delivery is in flight: after it took the cooldown, before the receiver
 * answered (the receiver holds the first request and tells the test it
 * arrived, so the kill lands in that window every time). After a restart the
 * replayed alert is delivered: exactly one answered request, once the
 * notifier has committed past the record. Then the record is replayed once
 * more after that completed delivery: nothing is sent again.
 *
 * On the code before this change the restart found the cooldown taken and
 * recorded the alert as suppressed: the receiver never got a second request,
 * and the wait for it below timed out.
 */
let p: TestPipeline;
let hook: Receiver;
let dir: string;
let admin: Admin;
let child: ChildProcess | undefined;

beforeAll(async () => {
  hook = await startReceiver();
  p = await startTestPipeline('ncrash', { processors: [] });
  dir = path.join(p.config.dataDir, 'notify');
  admin = p.services.kafka.admin();
  await admin.connect();
  // The child holds its own embedded ClickHouse: its target is written there before it starts.
  const ch = await createClickHouse({ dataDir: dir });
  await migrate(ch);
  await new DocumentStore(ch, 'notification_targets').create(
    p.tenants.a,
    parseTarget({ name: 'hook', kind: 'webhook', url: hook.url }, { allowLoopback: true }),
  );
  await ch.close();
  // runComponent passes this process's environment on; these are the child's notify settings.
  Object.assign(process.env, { NOTIFY_ALLOW_LOOPBACK: 'true', NOTIFY_TIMEOUT_MS: '120000', NOTIFY_COOLDOWN_SECONDS: '3600' });
}, 120_000);
afterAll(async () => {
  child?.kill('SIGKILL');
  await admin?.disconnect();
  await p?.stop();
  await hook?.close();
});

const start = async () => {
  child = runComponent(p, 'notify', dir);
  await adminUrl(child, dir);
};
const exited = (c: ChildProcess) => new Promise((resolve) => (c.exitCode !== null || c.signalCode ? resolve(null) : c.once('exit', resolve)));
const groupId = () => `${p.config.groupPrefix}-notify`;

/** Until the notifier's committed offset on the record's partition has passed `end`: nothing before it will be read again. */
async function committedPast(partition: number, end: string): Promise<void> {
  await eventually(
    async () => (await admin.fetchOffsets({ groupId: groupId(), topics: [TOPICS.alerts.topic] }))[0]!.partitions.find((x) => x.partition === partition)?.offset,
    (offset) => offset !== undefined && BigInt(offset) >= BigInt(end),
    60_000,
  );
}

it('SIGKILL between the cooldown and the delivery: delivered after the restart, exactly once', async () => {
  await start();
  const alert = sampleAlert({ tenant: p.tenants.a, alert_id: `fp-crash:firing:${Date.now()}` });
  const partitions = await admin.fetchTopicOffsets(TOPICS.alerts.topic);
  const partition = partitionOf(TOPICS.alerts.key(alert), partitions.length);

  const arrived = hook.holdNext();
  await p.publisher.publish('alerts', [alert]);
  const end = (await admin.fetchTopicOffsets(TOPICS.alerts.topic)).find((x) => x.partition === partition)!.high;
  await arrived; // the cooldown is taken, the request is at the receiver, unanswered
  child!.kill('SIGKILL');
  await exited(child!);
  expect(child!.signalCode).toBe('SIGKILL');

  await start();
  await eventually(
    async () => hook.bodies.length,
    (n) => n >= 2,
    60_000,
  );
  await committedPast(partition, end);
  // The held request (never answered) and the delivery after the restart; nothing more.
  expect(hook.bodies).toHaveLength(2);
  expect((hook.bodies as { id: string }[]).map((b) => b.id)).toEqual([alert.alert_id, alert.alert_id]);

  // A replay after the completed delivery (offset moved back, as after a crash between delivery and commit): no second send.
  child!.kill('SIGTERM');
  expect(await new Promise((resolve) => child!.once('exit', (code) => resolve(code)))).toBe(0);
  await admin.setOffsets({ groupId: groupId(), topic: TOPICS.alerts.topic, partitions: [{ partition, offset: String(BigInt(end) - 1n) }] });
  const rewound = await admin.fetchOffsets({ groupId: groupId(), topics: [TOPICS.alerts.topic] });
  expect(rewound[0]!.partitions.find((x) => x.partition === partition)?.offset).toBe(String(BigInt(end) - 1n));
  await start();
  await committedPast(partition, end);
  expect(hook.bodies).toHaveLength(2);

  child!.kill('SIGTERM');
  expect(await new Promise((resolve) => child!.once('exit', (code) => resolve(code)))).toBe(0);
  child = undefined;
}, 300_000);
