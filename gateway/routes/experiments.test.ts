import { describe, expect, it } from 'vitest';
import type { IncidentSummary } from '../../sql/stores/incidents.ts';
import { expectError, routeTestApp, TEST_TENANTS } from '../../test/helpers/gateway-app.ts';

/**
 * Prompt experiments (/v1/experiments) on in-memory stores: what may be
 * started, the report from analyses and feedback, stopping, and one tenant's
 * experiments invisible to another. The statistics are in
 * tenant-config/experiments.test.ts.
 */
const experiment = (versions: [number, number]) => ({
  name: 'stricter',
  prompt: 'triage',
  variants: [
    { name: 'control', prompt_version: versions[0], weight: 50 },
    { name: 'strict', prompt_version: versions[1], weight: 50 },
  ],
});

/** Tenant a with prompt triage at version 1 and an experiment of the built-in prompt (0) against it. */
async function running() {
  const t = routeTestApp();
  expect((await t.a('POST', '/v1/prompts/triage/versions', { template: '{{context}}', changelog: 'first' })).status).toBe(201);
  const res = await t.a('POST', '/v1/experiments', experiment([0, 1]));
  expect(res.status, await res.clone().text()).toBe(201);
  return { t, created: (await res.json()) as { id: string; status: string; control: string } };
}

const incident = (incident_id: string): IncidentSummary => ({
  incident_id,
  service: 'checkout',
  status: 'resolved',
  severity: 'high',
  version: 2,
  opened_at: Date.now() - 60_000,
  updated_at: Date.now(),
  resolved_at: Date.now(),
  signal_count: 3,
  suspect_deployment: null,
});

describe('experiments', () => {
  it('starts one over the built-in prompt (0) and a version the tenant has, running, the first variant its control', async () => {
    const { created } = await running();
    expect(created).toMatchObject({ status: 'running', control: 'control', min_sample: 100 });
  });

  it.each([
    ['a version that does not exist', 'a', 2],
    ["another tenant's version", 'b', 1],
  ] as const)('refuses %s, naming the variant, and starts nothing', async (_what, who, version) => {
    const { t } = await running();
    const before = await t.memory.experiments.list(TEST_TENANTS[who]);
    const error = await expectError(await t[who]('POST', '/v1/experiments', experiment([0, version])), 400, 'bad_request');
    expect(error.message).toBe(`variant strict: prompt triage has no version ${version}`);
    expect(await t.memory.experiments.list(TEST_TENANTS[who])).toEqual(before);
  });

  it('reports per variant the incidents analysed, the feedback and how much of it said helpful', async () => {
    const { t, created } = await running();
    for (const [id, variant, helpful] of [
      ['i1', 'control', true],
      ['i2', 'control', false],
      ['i3', 'strict', true],
    ] as const) {
      t.memory.incidents.seed(TEST_TENANTS.a, incident(id));
      t.memory.incidents.seedAssignment(TEST_TENANTS.a, id, created.id, variant);
      expect((await t.a('POST', `/v1/incidents/${id}/feedback`, { helpful })).status).toBe(201);
    }
    t.memory.incidents.seedAssignment(TEST_TENANTS.a, 'i4', created.id, 'strict'); // analysed, no feedback yet
    const { report } = (await (await t.a('GET', `/v1/experiments/${created.id}`)).json()) as { report: { variants: object[] } };
    expect(report.variants).toEqual([
      expect.objectContaining({ variant: 'control', control: true, incidents: 2, feedback: 2, helpful: 1, helpful_rate: 0.5, verdict: null }),
      expect.objectContaining({ variant: 'strict', control: false, incidents: 2, feedback: 1, helpful: 1, helpful_rate: 1, verdict: 'not enough data' }),
    ]);
  });

  it('stops one: it stays, stopped', async () => {
    const { t, created } = await running();
    expect(await (await t.a('POST', `/v1/experiments/${created.id}/stop`)).json()).toMatchObject({ id: created.id, status: 'stopped' });
    expect(await (await t.a('GET', `/v1/experiments/${created.id}`)).json()).toMatchObject({ status: 'stopped' });
    expect(((await (await t.a('GET', '/v1/experiments')).json()) as { items: unknown[] }).items).toEqual([expect.objectContaining({ status: 'stopped' })]);
  });

  it("hides one tenant's from another: not listed, and 404 to read or stop", async () => {
    const { t, created } = await running();
    expect(await (await t.b('GET', '/v1/experiments')).json()).toEqual({ items: [] });
    await expectError(await t.b('GET', `/v1/experiments/${created.id}`), 404, 'not_found');
    await expectError(await t.b('POST', `/v1/experiments/${created.id}/stop`), 404, 'not_found');
    expect(await t.memory.experiments.get(TEST_TENANTS.a, created.id)).toMatchObject({ status: 'running' });
  });
});
