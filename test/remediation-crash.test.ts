import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adminUrl, runComponent } from './helpers/child.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';
import { startRecorder, type Recorder } from './helpers/recorder.ts';

/**
 * The executor SIGKILLed mid-call does not run the action twice. The
 * executor runs as its own process (`autopilot run execute`), on an embedded
 * ClickHouse of its own seeded with the tenant's action and policies (the
 * test's engine belongs to the test process); remediate and the sink run in
 * the test. The action's receiver takes 8 s to answer; the executor is
 * killed while it waits, a second executor takes over the partition, finds
 * the proposal claimed (executing) with the dead one's lock, waits for the
 * lock to lapse, and records the proposal as failed, interrupted, without
 * calling again.
 */
let p: TestPipeline;
let receiver: Recorder;
const children: ChildProcess[] = [];
const SEED = path.resolve(import.meta.dirname, 'helpers/seed-embedded.ts');
const CHILD_ENV = { EXECUTE_TIMEOUT_MS: '5000', EXECUTE_LOCK_MS: '6000', EXECUTE_REFRESH_SECONDS: '0.5', NOTIFY_ALLOW_LOOPBACK: 'true' };

beforeAll(async () => {
  receiver = await startRecorder();
  p = await startTestPipeline('remediation-crash', {
    processors: ['sink', 'remediate'],
    env: { NOTIFY_ALLOW_LOOPBACK: 'true', REMEDIATE_REFRESH_SECONDS: '0.5' },
  });
}, 180_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await p?.stop();
  await receiver?.close();
});

const api = async (method: string, pathname: string, body?: unknown) => {
  const res = await p.app.request(pathname, {
    method,
    headers: { authorization: `Bearer ${p.keys.a}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};
const alert = (name: string, i: number) => ({
  version: '4',
  groupKey: 'g',
  status: 'firing',
  receiver: 'autopilot',
  alerts: [
    {
      status: 'firing',
      labels: { alertname: name, service: 'web', severity: 'critical' },
      startsAt: new Date(Date.now() - i).toISOString(),
      fingerprint: `${name}-${i}`,
    },
  ],
});
const proposalFor = async (alertName: string) =>
  ((await api('GET', '/v1/proposals?service=web')).body.items as Record<string, any>[]).find((x) => x.subject_id.startsWith(`${alertName}-`));

/** An executor child on a fresh embedded folder holding the tenant's actions and policies, as the test's engine has them. */
async function startExecutor(name: string): Promise<ChildProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), `autopilot-${name}-`));
  const rows: Record<string, unknown[]> = {};
  for (const table of ['actions', 'remediation_policies'])
    rows[table] = await p.rows(`SELECT * FROM ${table} FINAL WHERE tenant = {t:String}`, { t: p.tenants.a });
  const file = path.join(dir, 'rows.json');
  writeFileSync(file, JSON.stringify(rows));
  execFileSync(process.execPath, ['--import', 'tsx', SEED, path.join(dir, 'data'), file], { stdio: 'inherit' });
  const child = runComponent(p, 'execute', path.join(dir, 'data'), CHILD_ENV);
  children.push(child);
  await adminUrl(child, path.join(dir, 'data'));
  return child;
}

it('an executor SIGKILLed while its call is in flight: the action is not run again, and the proposal is failed as interrupted', {
  timeout: 240_000,
}, async () => {
  const action = await api('POST', '/v1/actions', {
    name: 'restart via hook',
    kind: 'webhook',
    risk: 'low',
    url: `${receiver.url}/restart`,
    body: { what: 'restart {{service}}' },
  });
  expect(action.status, JSON.stringify(action.body)).toBe(201);
  for (const name of ['Warmup', 'KillMe']) {
    const policy = await api('POST', '/v1/remediation-policies', {
      name,
      on: 'alert',
      match: { alert_name: name },
      action_id: action.body.id,
      mode: 'auto',
      max_per_service_per_hour: 10,
    });
    expect(policy.status, JSON.stringify(policy.body)).toBe(201);
  }
  const first = await startExecutor('executor-a');

  // A first action runs through and its offsets commit, so the group has a position to resume from.
  receiver.respond({ status: 200 });
  expect((await p.post('/v1/alertmanager', alert('Warmup', 1))).status).toBe(202);
  await eventually(
    () => proposalFor('Warmup'),
    (x) => x?.status === 'succeeded',
    60_000,
  );
  await sleep(2000);

  receiver.respond({ status: 200, delayMs: 8000 });
  expect((await p.post('/v1/alertmanager', alert('KillMe', 2))).status).toBe(202);
  await eventually(
    async () => receiver.requests.length,
    (n) => n === 2,
    60_000,
  );
  first.kill('SIGKILL');

  await startExecutor('executor-b');
  const settled = (await eventually(
    () => proposalFor('KillMe'),
    (x) => x?.status === 'failed',
    90_000,
  ))!;
  expect(settled.reason).toMatch(/^interrupted/);
  await sleep(3000);
  // One call for Warmup, one for KillMe: the second executor did not call again.
  expect(receiver.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /restart', 'POST /restart']);
  expect(receiver.requests[1]!.headers['idempotency-key']).toBe(settled.proposal_id);
});
