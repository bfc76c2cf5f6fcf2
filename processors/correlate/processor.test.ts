import { describe, expect, it } from 'vitest';
import { TOPICS } from '../../schemas/topics.ts';
import { statusChange } from '../../test/fixtures/status-changes.ts';
import type { Decoded } from '../runtime/processor.ts';
import { dependencySignal, toSignal } from './processor.ts';

const change = statusChange;

describe('a third-party status change as a correlation signal', () => {
  // Before the correlator read autopilot.external-status, such a record fell through to the anomaly branch.
  it('is a dependency signal of the dependent service, named by provider, subject and status, with the change id', () => {
    const d = { topic: TOPICS.externalStatus.topic, partition: 0, offset: '7', value: change() } as unknown as Decoded;
    expect(toSignal(d)).toEqual({
      tenant: 't',
      service: 'checkout',
      signal: {
        id: 'chg_1',
        kind: 'dependency',
        at: change().at,
        summary: 'Stripe: API degraded_performance (minor)',
        severity: 'medium',
        source: 'dependency:Stripe',
        planned: false,
      },
    });
  });

  it('grades the signal by the impact: major high, critical critical, maintenance planned', () => {
    expect(dependencySignal(change({ impact: 'major', to_status: 'partial_outage' }))!.signal.severity).toBe('high');
    expect(dependencySignal(change({ impact: 'critical', to_status: 'major_outage' }))!.signal.severity).toBe('critical');
    const maintenance = dependencySignal(
      change({ impact: 'maintenance', subject_kind: 'maintenance', subject_name: 'Database upgrade', to_status: 'in_progress' }),
    )!.signal;
    expect(dependencySignal(change({ subject_kind: 'page', subject_name: 'Stripe', to_status: 'major', impact: 'major' }))!.signal.summary).toBe(
      'Stripe: status page major (major)',
    );
    expect(maintenance).toMatchObject({ planned: true, severity: 'medium', summary: 'Stripe: maintenance "Database upgrade" in_progress (maintenance)' });
  });

  it('ignores a recovery and a change no service depends on', () => {
    expect(dependencySignal(change({ degraded: false, from_status: 'degraded_performance', to_status: 'operational', impact: 'none' }))).toBeNull();
    expect(dependencySignal(change({ service: '' }))).toBeNull();
  });
});
