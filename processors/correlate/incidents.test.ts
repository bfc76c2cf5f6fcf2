import { describe, expect, it } from 'vitest';
import { applySignal, DEFAULT_CORRELATION, emptyServiceState, incidentId, resolveIfQuiet, TIMELINE_LIMIT, type Signal } from './incidents.ts';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const MIN = 60_000;
const deploy = (at: number, version = 'v2'): Signal => ({ id: `dep-${at}`, kind: 'deployment', at, summary: `deploy ${version}`, version });
/** An anomaly that is part of a run (its series' second in a row) unless `consecutive` says otherwise. */
const anomaly = (at: number, severity: Signal['severity'] = 'critical', consecutive = 2): Signal => ({
  id: `an-${at}`,
  kind: 'anomaly',
  at,
  summary: 'latency',
  severity,
  consecutive,
});

/** A degraded dependency as the correlate processor makes it from an ExternalStatusChange (see processor.test.ts). */
const dependency = (at: number, severity: Signal['severity'] = 'high', id = `chg-${at}`, planned = false): Signal => ({
  id,
  kind: 'dependency',
  at,
  summary: 'Stripe: API major_outage (major)',
  severity,
  source: 'dependency:Stripe',
  planned,
});

describe('incident correlation', () => {
  it('opens on two signals within the window and names the deployment before the first anomaly', () => {
    const s = emptyServiceState();
    expect(applySignal(s, 't', 'api', deploy(T))).toEqual([]);
    const [inc] = applySignal(s, 't', 'api', anomaly(T + 3 * MIN));
    expect(inc).toMatchObject({
      status: 'open',
      version: 1,
      opened_at: T,
      severity: 'critical',
      suspect_deployment: { version: 'v2', at: T, minutes_before: 3 },
    });
    expect(inc!.signals.map((x) => x.kind)).toEqual(['deployment', 'anomaly']);
    expect(inc!.incident_id).toBe(incidentId('t', 'api', `an-${T + 3 * MIN}`));
  });

  it('one open incident per service: later signals attach as new versions of the same incident', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'api', deploy(T));
    const [first] = applySignal(s, 't', 'api', anomaly(T + MIN, 'critical'));
    const [second] = applySignal(s, 't', 'api', anomaly(T + 2 * MIN, 'high'));
    expect(second!.incident_id).toBe(first!.incident_id);
    expect(second!.version).toBe(2);
    expect(second!.severity).toBe('critical');
    expect(second!.signals).toHaveLength(3);
  });

  it('a deployment alone, or signals further apart than the window, open nothing', () => {
    const s = emptyServiceState();
    expect(applySignal(s, 't', 'api', deploy(T))).toEqual([]);
    expect(applySignal(s, 't', 'api', deploy(T + MIN, 'v3'))).toEqual([]);
    const t = emptyServiceState();
    expect(applySignal(t, 't', 'api', anomaly(T))).toEqual([]);
    expect(applySignal(t, 't', 'api', anomaly(T + DEFAULT_CORRELATION.windowMs + MIN))).toEqual([]);
  });

  it('names no suspect when the deployment is older than the look-back', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'api', deploy(T));
    applySignal(s, 't', 'api', anomaly(T + 40 * MIN));
    const [inc] = applySignal(s, 't', 'api', anomaly(T + 41 * MIN));
    expect(inc!.suspect_deployment).toBeNull();
  });

  it('resolves after the quiet period, absorbs nothing afterwards, and waits out the cooldown', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'api', deploy(T));
    const [open] = applySignal(s, 't', 'api', anomaly(T + MIN));
    expect(resolveIfQuiet(s, T + 10 * MIN)).toBeNull();
    const resolved = resolveIfQuiet(s, T + MIN + DEFAULT_CORRELATION.quietPeriodMs);
    expect(resolved).toMatchObject({
      incident_id: open!.incident_id,
      status: 'resolved',
      version: 2,
      resolved_at: T + MIN + DEFAULT_CORRELATION.quietPeriodMs,
    });

    const afterResolve = T + 20 * MIN;
    expect(applySignal(s, 't', 'api', anomaly(afterResolve))).toEqual([]); // cooldown: no new incident, old one untouched
    expect(applySignal(s, 't', 'api', anomaly(afterResolve + 30_000))).toEqual([]);
    const later = T + 40 * MIN;
    applySignal(s, 't', 'api', anomaly(later));
    const [reopened] = applySignal(s, 't', 'api', anomaly(later + MIN));
    expect(reopened!.incident_id).not.toBe(open!.incident_id);
    expect(reopened!.version).toBe(1);
  });

  it('a late signal resolves the quiet incident first, then counts on its own', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'api', deploy(T));
    applySignal(s, 't', 'api', anomaly(T + MIN));
    const out = applySignal(s, 't', 'api', anomaly(T + 60 * MIN));
    expect(out.map((i) => i.status)).toEqual(['resolved']);
    expect(s.open).toBeNull();
  });

  it('a deployment read after the anomalies it caused still becomes the suspect', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'api', anomaly(T + 2 * MIN));
    const [opened] = applySignal(s, 't', 'api', anomaly(T + 3 * MIN));
    expect(opened!.suspect_deployment).toBeNull();
    const [updated] = applySignal(s, 't', 'api', deploy(T));
    expect(updated).toMatchObject({ incident_id: opened!.incident_id, opened_at: T, suspect_deployment: { version: 'v2', minutes_before: 2 } });
    expect(updated!.signals.map((x) => x.kind)).toEqual(['deployment', 'anomaly', 'anomaly']);
    // A deployment after the first anomaly is a signal, not a suspect.
    const [later] = applySignal(s, 't', 'api', deploy(T + 5 * MIN, 'v3'));
    expect(later!.suspect_deployment!.version).toBe('v2');
  });

  it('only sustained anomalies of at least the open severity open an incident; the rest join one', () => {
    const s = emptyServiceState();
    expect(applySignal(s, 't', 'api', deploy(T))).toEqual([]);
    expect(applySignal(s, 't', 'api', anomaly(T + MIN, 'medium'))).toEqual([]); // too mild
    expect(applySignal(s, 't', 'api', anomaly(T + 2 * MIN, 'critical', 1))).toEqual([]); // a lone sample
    const [opened] = applySignal(s, 't', 'api', anomaly(T + 3 * MIN, 'high'));
    expect(opened!.signals.map((x) => x.severity ?? x.kind)).toEqual(['deployment', 'high']);
    expect(opened!.suspect_deployment!.minutes_before).toBe(3);
    const [joined] = applySignal(s, 't', 'api', anomaly(T + 4 * MIN, 'medium', 1));
    expect(joined!.signals).toHaveLength(3);
  });

  it('a run of anomalies on one series is one signal: it takes a second source to open', () => {
    const s = emptyServiceState();
    const onSeries = (at: number, consecutive: number) => ({ ...anomaly(at, 'critical', consecutive), source: 'latency{pod=a}' });
    expect(applySignal(s, 't', 'api', onSeries(T, 1))).toEqual([]);
    expect(applySignal(s, 't', 'api', onSeries(T + 10_000, 2))).toEqual([]);
    expect(applySignal(s, 't', 'api', onSeries(T + 20_000, 3))).toEqual([]);
    const [opened] = applySignal(s, 't', 'api', { ...anomaly(T + 30_000), source: 'errors{pod=a}' });
    expect(opened!.signals).toHaveLength(4);
    expect(opened!.opened_at).toBe(T); // the run's first sample, though it alone did not count
  });

  it('an earlier anomaly read after the incident opened moves the start, and the suspect is measured from it', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'api', deploy(T));
    const spike: Signal = { id: 'err-1', kind: 'error_spike', at: T + 2 * MIN, summary: 'errors' };
    const [opened] = applySignal(s, 't', 'api', spike);
    expect(opened!.suspect_deployment!.minutes_before).toBe(2);
    const [moved] = applySignal(s, 't', 'api', anomaly(T + 30_000, 'critical', 2));
    expect(moved!.suspect_deployment).toMatchObject({ version: 'v2', minutes_before: 0.5 });
    expect(moved!.incident_id).toBe(opened!.incident_id);
  });

  it('a deployment read after the run of anomalies that followed it still opens the incident, naming it', () => {
    const s = emptyServiceState();
    const series = (at: number, consecutive: number): Signal => ({ ...anomaly(at, 'critical', consecutive), source: 'latency{a}' });
    expect(applySignal(s, 't', 'api', series(T + 1000, 1))).toEqual([]);
    expect(applySignal(s, 't', 'api', series(T + 2000, 2))).toEqual([]); // one source: not yet an incident
    const [opened] = applySignal(s, 't', 'api', deploy(T));
    expect(opened).toMatchObject({ status: 'open', opened_at: T, updated_at: T + 2000, signal_count: 3 });
    expect(opened!.suspect_deployment).toMatchObject({ version: 'v2', at: T });
  });

  it('a run that becomes sustained after the incident opened moves the start back to its first sample', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'api', deploy(T));
    const [opened] = applySignal(s, 't', 'api', { id: 'err-1', kind: 'error_spike', at: T + 2 * MIN, summary: 'errors' });
    expect(opened!.suspect_deployment!.minutes_before).toBe(2);
    const series = (at: number, consecutive: number): Signal => ({ ...anomaly(at, 'critical', consecutive), source: 'latency{a}' });
    const [first] = applySignal(s, 't', 'api', series(T + MIN, 1));
    expect(first!.suspect_deployment!.minutes_before).toBe(2); // one sample is not yet a problem
    const [second] = applySignal(s, 't', 'api', series(T + 2.5 * MIN, 2));
    expect(second!.suspect_deployment!.minutes_before).toBe(1); // the run began at T + 1 min
  });

  it('an isolated anomaly from before the deployment, read late, joins the incident but does not move its start', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'api', deploy(T));
    applySignal(s, 't', 'api', anomaly(T + 2 * MIN, 'critical', 1));
    const [opened] = applySignal(s, 't', 'api', anomaly(T + 2 * MIN + 1000, 'critical', 2));
    expect(opened!.suspect_deployment).toMatchObject({ version: 'v2' });
    // Noise from another series, 3 minutes before the deployment, arriving after (detect replays partitions side by side).
    const [joined] = applySignal(s, 't', 'api', { ...anomaly(T - 3 * MIN, 'high', 1), id: 'noise' });
    expect(joined!.suspect_deployment).toMatchObject({ version: 'v2' });
    expect(joined!.signal_count).toBe(opened!.signal_count + 1);
  });

  it('caps the timeline of a long incident but counts every signal, keeping deployments, the start and the latest', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'api', deploy(T));
    applySignal(s, 't', 'api', anomaly(T + 1000));
    let last: ReturnType<typeof applySignal>[number] | undefined;
    for (let i = 2; i < 500; i++) [last] = applySignal(s, 't', 'api', anomaly(T + i * 1000));
    expect(last!.signal_count).toBe(500);
    expect(last!.signals.length).toBeLessThanOrEqual(TIMELINE_LIMIT);
    expect(last!.signals[0]!.kind).toBe('deployment');
    expect(last!.signals[1]!.at).toBe(T + 1000);
    expect(last!.signals.at(-1)!.at).toBe(T + 499_000);
  });

  it('a replayed signal changes nothing', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'api', deploy(T));
    applySignal(s, 't', 'api', anomaly(T + MIN));
    expect(applySignal(s, 't', 'api', anomaly(T + MIN))).toEqual([]);
    expect(applySignal(s, 't', 'api', deploy(T))).toEqual([]);
    expect(s.open!.version).toBe(1);
  });
});

describe('third-party dependencies as signals', () => {
  // Each of these fails without the dependency rules: a lone signal never opened an incident (minSignals 2),
  // an earlier dependency was left off the timeline, and planned work was judged like any other signal.
  it('a major or critical outage of a dependency opens an incident on its own', () => {
    const s = emptyServiceState();
    const [opened] = applySignal(s, 't', 'checkout', dependency(T, 'high'));
    expect(opened).toMatchObject({ status: 'open', opened_at: T, severity: 'high', signal_count: 1, suspect_deployment: null });
    expect(opened!.signals[0]!.summary).toContain('Stripe');
    expect(opened!.incident_id).toBe(incidentId('t', 'checkout', `chg-${T}`));
    const t = emptyServiceState();
    expect(applySignal(t, 't', 'checkout', dependency(T, 'critical'))[0]).toMatchObject({ status: 'open', severity: 'critical' });
  });

  it('a minor degradation opens nothing alone but joins an open incident, naming the provider', () => {
    const s = emptyServiceState();
    expect(applySignal(s, 't', 'checkout', dependency(T, 'medium'))).toEqual([]);
    expect(applySignal(s, 't', 'checkout', dependency(T + MIN, 'medium', 'chg-again'))).toEqual([]); // the same provider is one source
    expect(s.open).toBeNull();

    const u = emptyServiceState();
    applySignal(u, 't', 'checkout', deploy(T));
    const [opened] = applySignal(u, 't', 'checkout', anomaly(T + MIN));
    const [joined] = applySignal(u, 't', 'checkout', dependency(T + 2 * MIN, 'medium'));
    expect(joined).toMatchObject({ incident_id: opened!.incident_id, version: 2, severity: 'critical', signal_count: 3 });
    expect(joined!.signals.map((x) => x.kind)).toEqual(['deployment', 'anomaly', 'dependency']);
    expect(joined!.signals.at(-1)!.summary).toMatch(/^Stripe: /);
  });

  it("a provider's maintenance never opens an incident, whatever its severity, but joins one", () => {
    const s = emptyServiceState();
    expect(applySignal(s, 't', 'checkout', dependency(T, 'critical', 'mnt-1', true))).toEqual([]);
    expect(applySignal(s, 't', 'checkout', deploy(T + MIN))).toEqual([]); // with a deployment: still two sources of nothing
    const u = emptyServiceState();
    applySignal(u, 't', 'checkout', deploy(T));
    applySignal(u, 't', 'checkout', anomaly(T + MIN));
    const [joined] = applySignal(u, 't', 'checkout', dependency(T + 2 * MIN, 'medium', 'mnt-2', true));
    expect(joined!.signals.map((x) => x.id)).toContain('mnt-2');
  });

  it('a degradation in the look-back before the trouble is on the new incident, like the suspect deployment', () => {
    const s = emptyServiceState();
    expect(applySignal(s, 't', 'checkout', dependency(T, 'medium'))).toEqual([]);
    applySignal(s, 't', 'checkout', anomaly(T + 20 * MIN, 'critical', 2));
    const [opened] = applySignal(s, 't', 'checkout', { ...anomaly(T + 21 * MIN), source: 'errors' });
    expect(opened!.signals.map((x) => x.kind)).toEqual(['dependency', 'anomaly', 'anomaly']);
    expect(opened!.opened_at).toBe(T);
    // Older than the look-back: not a candidate.
    const u = emptyServiceState();
    applySignal(u, 't', 'checkout', dependency(T, 'medium'));
    applySignal(u, 't', 'checkout', anomaly(T + 40 * MIN, 'critical', 2));
    const [late] = applySignal(u, 't', 'checkout', { ...anomaly(T + 41 * MIN), source: 'errors' });
    expect(late!.signals.map((x) => x.kind)).not.toContain('dependency');
  });

  it('a replayed status change changes nothing, whether it opened the incident or joined it', () => {
    const s = emptyServiceState();
    const [opened] = applySignal(s, 't', 'checkout', dependency(T, 'high', 'chg-open'));
    applySignal(s, 't', 'checkout', dependency(T + MIN, 'medium', 'chg-join'));
    expect(applySignal(s, 't', 'checkout', dependency(T, 'high', 'chg-open'))).toEqual([]);
    expect(applySignal(s, 't', 'checkout', dependency(T + MIN, 'medium', 'chg-join'))).toEqual([]);
    expect(s.open).toMatchObject({ incident_id: opened!.incident_id, version: 2, signal_count: 2 });
  });

  it('a long incident keeps its dependency changes on the capped timeline', () => {
    const s = emptyServiceState();
    applySignal(s, 't', 'checkout', dependency(T, 'high'));
    for (let i = 1; i < 100; i++) applySignal(s, 't', 'checkout', anomaly(T + i * 1000));
    applySignal(s, 't', 'checkout', dependency(T + 50_500, 'medium'));
    for (let i = 100; i < 200; i++) applySignal(s, 't', 'checkout', anomaly(T + i * 1000));
    expect(s.open!.signals.length).toBeLessThanOrEqual(TIMELINE_LIMIT);
    expect(s.open!.signals.filter((x) => x.kind === 'dependency').map((x) => x.at)).toEqual([T, T + 50_500]);
  });
});
