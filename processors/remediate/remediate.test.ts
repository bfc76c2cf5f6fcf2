import { describe, expect, it } from 'vitest';
import { throwawayRedisPerFile } from '../../test/helpers/redis-server.ts';
import type { IncidentRecord } from '../../schemas/topics.ts';
import { parsePolicy } from '../../tenant-config/remediation-policies.ts';
import { alertOccasion, incidentOccasion, matches, proposalId } from './match.ts';
import { DeploymentHistory } from './versions.ts';

const incident = (over: Partial<IncidentRecord> = {}): IncidentRecord => ({
  incident_id: 'inc-1',
  tenant: 'acme',
  service: 'checkout',
  version: 1,
  status: 'open',
  severity: 'high',
  opened_at: 1000,
  updated_at: 2000,
  resolved_at: null,
  signals: [],
  signal_count: 0,
  suspect_deployment: { id: 'dep-1', version: 'v2', at: 900, minutes_before: 1 },
  ...over,
});
const policy = (match: Record<string, unknown>, on = 'incident') => parsePolicy({ name: 'p', on, match, action_id: 'a', mode: 'approve' });

describe('which occasions a policy proposes for', () => {
  it('matches service, minimum severity and a suspect deployment', () => {
    const o = incidentOccasion(incident());
    expect(matches(policy({}), o)).toBe(true);
    expect(matches(policy({ services: ['cart'] }), o)).toBe(false);
    expect(matches(policy({ min_severity: 'critical' }), o)).toBe(false);
    expect(matches(policy({ min_severity: 'high' }), o)).toBe(true);
    expect(matches(policy({ suspect_deployment: true }), o)).toBe(true);
    expect(matches(policy({ suspect_deployment: true }), incidentOccasion(incident({ suspect_deployment: null })))).toBe(false);
    expect(matches({ ...policy({}), enabled: false }, o)).toBe(false);
    // A policy on alerts does not take incidents.
    expect(matches(policy({}, 'alert'), o)).toBe(false);
  });

  it('an alert by its name; a warning counts as high', () => {
    const a = alertOccasion({
      alert_id: 'f:firing:1',
      tenant: 'acme',
      service: 'web',
      source: 'alertmanager',
      alert_name: 'ContainerDown',
      status: 'firing',
      severity: 'warning',
      fingerprint: 'f',
      labels: {},
      annotations: {},
      starts_at: 1,
      ends_at: null,
      received_at: 2,
      generator_url: null,
      rule_id: null,
      value: null,
    });
    expect(matches(policy({ alert_name: 'ContainerDown', min_severity: 'high' }, 'alert'), a)).toBe(true);
    expect(matches(policy({ alert_name: 'Other' }, 'alert'), a)).toBe(false);
  });

  it('one proposal per tenant, policy and subject', () => {
    expect(proposalId('acme', 'p1', 'inc-1')).toBe(proposalId('acme', 'p1', 'inc-1'));
    expect(new Set([proposalId('acme', 'p1', 'inc-1'), proposalId('acme', 'p2', 'inc-1'), proposalId('other', 'p1', 'inc-1')]).size).toBe(3);
  });
});

describe('the deployment history', () => {
  const redis = throwawayRedisPerFile();

  it('knows the version deployed before the suspect, a redeploy counting from its latest time', async () => {
    const history = new DeploymentHistory(redis().client());
    const deploy = (version: string, timestamp: number) =>
      history.record({ tenant: 'acme', service: 'checkout', version, timestamp, status: 'succeeded', metadata: {} });
    await deploy('v1', 1000);
    await deploy('v2', 2000);
    await deploy('v3', 3000);
    expect(await history.previous('acme', 'checkout', 'v3')).toBe('v2');
    expect(await history.previous('acme', 'checkout', 'v1')).toBeNull(); // nothing before the first
    expect(await history.previous('acme', 'checkout', 'v9')).toBeNull(); // unknown suspect: ClickHouse answers
    await deploy('v1', 4000); // a rollback to v1, then v4 goes out
    await deploy('v4', 5000);
    expect(await history.previous('acme', 'checkout', 'v4')).toBe('v1');
    expect(await history.previous('other', 'checkout', 'v4')).toBeNull();
  });
});
