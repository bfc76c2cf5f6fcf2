import { describe, expect, it } from 'vitest';
import type { Anomaly, MetricRollup } from '../../schemas/topics.ts';
import {
  advance,
  emptyAlertState,
  evaluate,
  evaluateAnomaly,
  evaluateRollup,
  expireStale,
  fingerprint,
  retire,
  seriesKeyOf,
  type AlertState,
} from './evaluate.ts';
import { parseRule, type RuleInput, type StoredRule } from '../../tenant-config/alert-rules.ts';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const MIN = 60_000;

const stored = (input: RuleInput, id = 'rule-1'): StoredRule => ({ ...parseRule(input), id, tenant: 'acme', created_at: T, updated_at: T });
const p99Rule = (extra: Partial<Record<string, unknown>> = {}) =>
  stored({
    name: 'checkout slow',
    kind: 'threshold',
    service: 'checkout',
    metric: 'http_request_duration_ms',
    field: 'p99',
    op: 'gt',
    value: 500,
    for: '2m',
    ...extra,
  } as RuleInput);
const anomalyRule = (extra: Partial<Record<string, unknown>> = {}) =>
  stored({ name: 'checkout anomalous', kind: 'anomaly', service: 'checkout', min_severity: 'high', ...extra } as RuleInput, 'rule-2');

/** The rollup of the 1-minute window that starts `minute` minutes after T. */
function rollup(minute: number, p99: number, extra: Partial<MetricRollup> = {}): MetricRollup {
  return {
    tenant: 'acme',
    service: 'checkout',
    metric_name: 'http_request_duration_ms',
    labels: { route: '/pay', service: 'checkout' },
    window_start: T + minute * MIN,
    window_end: T + (minute + 1) * MIN,
    count: 100,
    sum: 100 * p99 * 0.5,
    min: 1,
    max: p99 * 1.2,
    p50: p99 * 0.3,
    p90: p99 * 0.7,
    p95: p99 * 0.8,
    p99,
    ...extra,
  };
}

function anomaly(at: number, severity: Anomaly['severity'] = 'high', extra: Partial<Anomaly> = {}): Anomaly {
  return {
    anomaly_id: `an-${at}`,
    tenant: 'acme',
    service: 'checkout',
    metric_name: 'http_request_duration_ms',
    labels: { service: 'checkout' },
    kind: 'metric',
    current_value: 812,
    baseline_mean: 210,
    baseline_std_dev: 40,
    baseline_median: 200,
    z_score: 15,
    deviation_percent: 306,
    severity,
    level_shift: false,
    consecutive: 2,
    detected_at: at,
    source_topic: 'autopilot.metrics',
    source_partition: 0,
    source_offset: at,
    p_value: 1e-9,
    anomaly_score: 0.9,
    ...extra,
  };
}

/** Feeds p99 values, one 1-minute window each from `from`; returns what each window emitted. */
function feed(rule: StoredRule, state: AlertState, p99s: number[], from = 0) {
  return p99s.map((v, i) => evaluateRollup(rule, state, rollup(from + i, v)));
}

describe('threshold rules', () => {
  it('p99 > 500 for 2m over 1-minute windows fires on the third breaching window, not before', () => {
    const rule = p99Rule();
    const s = emptyAlertState();
    expect(evaluateRollup(rule, s, rollup(0, 812))).toEqual([]);
    expect(s).toMatchObject({ phase: 'pending', since: T, active_at: T + MIN });
    expect(evaluateRollup(rule, s, rollup(1, 700))).toEqual([]);
    expect(s.phase).toBe('pending');
    const third = evaluateRollup(rule, s, rollup(2, 650));
    expect(third).toHaveLength(1);
    expect(evaluateRollup(rule, s, rollup(3, 900))).toEqual([]); // still firing: nothing new to say

    const fp = fingerprint('rule-1', { route: '/pay', service: 'checkout' });
    expect(third![0]).toEqual({
      alert_id: `${fp}:firing:${T}`,
      tenant: 'acme',
      service: 'checkout',
      source: 'rule',
      alert_name: 'checkout slow',
      status: 'firing',
      severity: 'warning',
      fingerprint: fp,
      labels: { alertname: 'checkout slow', route: '/pay', rule_id: 'rule-1', service: 'checkout', severity: 'warning' },
      annotations: { summary: 'p99 of http_request_duration_ms{route="/pay"} for checkout is 650 > 500 for 3m' },
      starts_at: T, // the first breaching window's start
      ends_at: null,
      received_at: T + 3 * MIN,
      generator_url: null,
      rule_id: 'rule-1',
      value: 650,
    });
    expect(s).toMatchObject({ phase: 'firing', last_fired_at: T + 3 * MIN, last_value: 900 });
  });

  it('for: 0s fires on the first breaching window', () => {
    const s = emptyAlertState();
    expect(feed(p99Rule({ for: '0s' }), s, [812])[0]).toHaveLength(1);
  });

  it("resolves on the first non-breaching window, with the firing alert's starts_at and fingerprint", () => {
    const rule = p99Rule();
    const s = emptyAlertState();
    const fired = feed(rule, s, [812, 812, 812]).flat();
    const [resolved] = evaluateRollup(rule, s, rollup(3, 480));
    expect(resolved).toMatchObject({
      alert_id: `${fired[0]!.fingerprint}:resolved:${T}`,
      fingerprint: fired[0]!.fingerprint,
      status: 'resolved',
      starts_at: T,
      ends_at: T + 4 * MIN,
      received_at: T + 4 * MIN,
      value: 480,
      annotations: { summary: 'p99 of http_request_duration_ms{route="/pay"} for checkout is 480, no longer > 500' },
    });
    expect(s).toMatchObject({ phase: 'inactive', since: null, last_resolved_at: T + 4 * MIN });
  });

  it('a single breach, or two, then recovery never fires', () => {
    const rule = p99Rule();
    const s = emptyAlertState();
    expect(feed(rule, s, [812, 300, 900, 900, 300, 300]).flat()).toEqual([]);
    expect(s.phase).toBe('inactive');
    expect(s.last_fired_at).toBeNull();
  });

  it('cooldown: a breach right after a resolve stays pending until the cooldown ends, then fires with its own start', () => {
    const rule = p99Rule(); // cooldown 5m by default
    const s = emptyAlertState();
    feed(rule, s, [812, 812, 812]); // fires at T+3m
    const [resolved] = evaluateRollup(rule, s, rollup(3, 300)); // resolves at T+4m
    const R = resolved!.ends_at!;
    // Breaching again from the window starting at R: `for` is met at R+3m, the cooldown only ends at R+5m.
    const out = feed(rule, s, [900, 900, 900, 900], 4);
    expect(out.flat()).toEqual([]);
    expect(s).toMatchObject({ phase: 'pending', since: R });
    const [refired] = evaluateRollup(rule, s, rollup(8, 900)); // window ends at R+5m
    expect(refired).toMatchObject({ status: 'firing', starts_at: R, received_at: R + 5 * MIN, fingerprint: resolved!.fingerprint });
    expect(refired!.alert_id).not.toBe(resolved!.alert_id.replace('resolved', 'firing'));
  });

  it('cooldown: a flap that clears inside the cooldown says nothing at all', () => {
    const rule = p99Rule({ for: '0s', cooldown: '10m' });
    const s = emptyAlertState();
    const statuses = feed(rule, s, [900, 300, 900, 300, 900, 300, 900])
      .flat()
      .map((a) => a.status);
    expect(statuses).toEqual(['firing', 'resolved']); // without the cooldown: firing, resolved ×4
    const without = emptyAlertState();
    expect(feed(p99Rule({ for: '0s', cooldown: '0s' }), without, [900, 300, 900, 300, 900, 300, 900]).flat()).toHaveLength(7);
  });

  it('replaying a rollup emits nothing and changes nothing', () => {
    const rule = p99Rule();
    const s = emptyAlertState();
    feed(rule, s, [812, 812]);
    const [fired] = evaluateRollup(rule, s, rollup(2, 812));
    expect(fired).toBeDefined();
    const before = structuredClone(s);
    expect(evaluateRollup(rule, s, rollup(2, 812))).toEqual([]); // same window_end
    expect(evaluateRollup(rule, s, rollup(1, 300))).toEqual([]); // an older window, even one that would resolve
    expect(s).toEqual(before);
  });

  it('a disabled rule emits nothing; disabling it while firing resolves the alert, once', () => {
    const s = emptyAlertState();
    expect(feed(p99Rule({ enabled: false }), s, [900, 900, 900, 900, 900]).flat()).toEqual([]);
    expect(s.phase).toBe('inactive');

    const rule = p99Rule();
    const t = emptyAlertState();
    feed(rule, t, [900, 900, 900]);
    expect(t.phase).toBe('firing');
    const disabled = { ...rule, enabled: false };
    const [resolved] = retire(disabled, t, T + 3 * MIN + 30_000);
    expect(resolved).toMatchObject({ status: 'resolved', starts_at: T, ends_at: T + 3 * MIN + 30_000, value: 900 });
    expect(resolved!.annotations.summary).toBe('rule checkout slow was disabled or removed');
    expect(retire(disabled, t, T + 4 * MIN)).toEqual([]);
    expect(evaluateRollup(disabled, t, rollup(4, 900))).toEqual([]);
  });

  it('a disabled rule still firing (retire never called) resolves on its next input', () => {
    const rule = p99Rule();
    const s = emptyAlertState();
    feed(rule, s, [900, 900, 900]);
    const out = evaluateRollup({ ...rule, enabled: false }, s, rollup(3, 900));
    expect(out.map((a) => [a.status, a.ends_at])).toEqual([['resolved', T + 4 * MIN]]);
  });

  it("matches tenant, service, metric and the rule's labels exactly; one state per series", () => {
    const rule = p99Rule({ labels: { route: '/pay' }, for: '0s' });
    const s = emptyAlertState();
    expect(evaluateRollup(rule, s, rollup(0, 900, { tenant: 'other' }))).toEqual([]);
    expect(evaluateRollup(rule, s, rollup(0, 900, { service: 'cart', labels: { route: '/pay', service: 'cart' } }))).toEqual([]);
    expect(evaluateRollup(rule, s, rollup(0, 900, { metric_name: 'db_duration_ms' }))).toEqual([]);
    expect(evaluateRollup(rule, s, rollup(0, 900, { labels: { route: '/cart', service: 'checkout' } }))).toEqual([]);
    expect(s).toEqual(emptyAlertState());

    const payPod1 = rollup(0, 900, { labels: { pod: 'a', route: '/pay', service: 'checkout' } });
    const payPod2 = rollup(0, 900, { labels: { pod: 'b', route: '/pay', service: 'checkout' } });
    expect(seriesKeyOf(rule, payPod1)).not.toBe(seriesKeyOf(rule, payPod2));
    expect(seriesKeyOf(rule, payPod1)).toBe(seriesKeyOf(rule, { ...payPod1, window_end: T + 9 * MIN }));
    const [a] = evaluateRollup(rule, emptyAlertState(), payPod1);
    const [b] = evaluateRollup(rule, emptyAlertState(), payPod2);
    expect(a!.fingerprint).not.toBe(b!.fingerprint);
    expect(a!.labels).toMatchObject({ pod: 'a', route: '/pay' });
  });

  it('avg is sum / count, and lt and eq compare as written', () => {
    const avg = p99Rule({ field: 'avg', op: 'lt', value: 10, for: '0s' });
    expect(evaluateRollup(avg, emptyAlertState(), rollup(0, 100, { sum: 500, count: 100 }))).toMatchObject([{ status: 'firing', value: 5 }]);
    expect(evaluateRollup(avg, emptyAlertState(), rollup(0, 100, { sum: 5000, count: 100 }))).toEqual([]);
    const eq = p99Rule({ field: 'count', op: 'eq', value: 0, for: '0s' });
    expect(evaluateRollup(eq, emptyAlertState(), rollup(0, 100, { count: 0, sum: 0 }))).toMatchObject([{ value: 0 }]);
    expect(evaluateRollup(eq, emptyAlertState(), rollup(0, 100, { count: 1 }))).toEqual([]);
  });

  it("the rule's severity, labels and annotations reach the alert; its own summary wins", () => {
    const rule = p99Rule({ severity: 'critical', for: '0s', annotations: { runbook: 'https://wiki/checkout', summary: 'Checkout is slow' } });
    const [a] = evaluateRollup(rule, emptyAlertState(), rollup(0, 900));
    expect(a).toMatchObject({
      severity: 'critical',
      labels: { severity: 'critical' },
      annotations: { runbook: 'https://wiki/checkout', summary: 'Checkout is slow' },
    });
  });

  it('advance does not resolve a threshold alert: only data does', () => {
    const rule = p99Rule({ for: '0s' });
    const s = emptyAlertState();
    feed(rule, s, [900]);
    expect(advance(rule, s, T + 24 * 60 * MIN)).toEqual([]);
    expect(s.phase).toBe('firing');
  });
});

describe('threshold series that go stale', () => {
  // Wall-clock times for arrivals and sweeps; event time stays T-based, as a backfill's would.
  const WALL = Date.UTC(2026, 10, 24, 9, 0, 0);
  const STALE = 5 * MIN;

  /** Fires p99Rule (for 2m) on three breaching windows that arrive a minute apart on the wall clock. */
  function firing(rule = p99Rule()) {
    const s = emptyAlertState();
    const out = [812, 830, 845].map((v, i) => evaluateRollup(rule, s, rollup(i, v), WALL + i * MIN));
    expect(out.flat().map((a) => a.status)).toEqual(['firing']);
    return { rule, s };
  }

  it('resolves a firing alert once its series sent nothing for the staleness interval, saying so', () => {
    const { rule, s } = firing();
    const heardAt = WALL + 2 * MIN;
    expect(expireStale(rule, s, heardAt + STALE - 1, STALE)).toEqual([]);
    expect(s.phase).toBe('firing');
    const [resolved] = expireStale(rule, s, heardAt + STALE + 20_000, STALE);
    expect(resolved).toMatchObject({
      status: 'resolved',
      starts_at: T,
      // Event time: the last window's end plus the interval, whenever the sweep happened to run.
      ends_at: T + 3 * MIN + STALE,
      received_at: heardAt + STALE + 20_000,
      value: null,
      annotations: {
        resolved_reason: 'stale',
        summary: 'p99 of http_request_duration_ms{route="/pay"} for checkout: no data for 5m, the series went stale (last value 845)',
      },
    });
    // Same id as any resolution of this firing: a sink and the notifier see one alert ending.
    expect(resolved!.alert_id).toBe(`${resolved!.fingerprint}:resolved:${T}`);
    expect(s.phase).toBe('inactive');
    expect(expireStale(rule, s, heardAt + 2 * STALE, STALE)).toEqual([]); // again: nothing
  });

  it('judges arrival on the wall clock, not event time: an old backfill that keeps flowing is not stale', () => {
    const { rule, s } = firing();
    // The windows are days old in event time, but the last one arrived a minute ago.
    expect(expireStale(rule, s, WALL + 3 * MIN, STALE)).toEqual([]);
    expect(evaluateRollup(rule, s, rollup(3, 900), WALL + 6 * MIN)).toEqual([]);
    expect(expireStale(rule, s, WALL + 6 * MIN + STALE - 1, STALE)).toEqual([]);
    expect(expireStale(rule, s, WALL + 6 * MIN + STALE, STALE)).toHaveLength(1);
  });

  it('does not count silence from before the processor started (it was down, not the series)', () => {
    const { rule, s } = firing();
    const restartedAt = WALL + 60 * MIN;
    expect(expireStale(rule, s, restartedAt + 1000, STALE, restartedAt)).toEqual([]);
    expect(expireStale(rule, s, restartedAt + STALE, STALE, restartedAt)).toHaveLength(1);
  });

  it('a replayed window does not refresh the arrival', () => {
    const { rule, s } = firing();
    expect(evaluateRollup(rule, s, rollup(2, 845), WALL + 4 * MIN)).toEqual([]); // a replay after a restart
    expect(s.last_received_at).toBe(WALL + 2 * MIN);
    expect(expireStale(rule, s, WALL + 2 * MIN + STALE, STALE)).toHaveLength(1);
  });

  it('drops a pending alert quietly', () => {
    const rule = p99Rule();
    const s = emptyAlertState();
    evaluateRollup(rule, s, rollup(0, 900), WALL);
    expect(s.phase).toBe('pending');
    expect(expireStale(rule, s, WALL + STALE, STALE)).toEqual([]);
    expect(s.phase).toBe('inactive');
  });

  it('a series that comes back fires anew after its for, once out of the cooldown that counts from the stale end', () => {
    const { rule, s } = firing(p99Rule({ for: '0s', cooldown: '10m' }));
    expect(expireStale(rule, s, WALL + 2 * MIN + STALE, STALE)).toHaveLength(1);
    const end = T + 3 * MIN + STALE;
    // Windows from before the stale end (a lagging pipeline) and inside the cooldown stay pending.
    expect(evaluateRollup(rule, s, rollup(4, 900), WALL + 8 * MIN)).toEqual([]);
    expect(s.phase).toBe('pending');
    const minute = (end + 10 * MIN - T) / MIN;
    const [again] = evaluateRollup(rule, s, rollup(minute, 900), WALL + 9 * MIN);
    expect(again).toMatchObject({ status: 'firing', starts_at: T + 4 * MIN });
  });

  it('a state saved before arrivals were recorded starts its clock at the first sweep', () => {
    const { rule, s } = firing();
    delete s.last_received_at;
    expect(expireStale(rule, s, WALL + 10 * MIN, STALE)).toEqual([]);
    expect(expireStale(rule, s, WALL + 10 * MIN + STALE, STALE)).toHaveLength(1);
  });

  it('leaves anomaly rules and inactive states alone', () => {
    const s = emptyAlertState();
    expect(expireStale(p99Rule(), s, WALL, STALE)).toEqual([]);
    const a = emptyAlertState();
    evaluateAnomaly(anomalyRule(), a, anomaly(T));
    expect(expireStale(anomalyRule(), a, WALL + 24 * 60 * MIN, STALE)).toEqual([]);
    expect(a.phase).toBe('firing');
  });
});

describe('anomaly rules', () => {
  it('fires on a high anomaly and ignores medium ones when min_severity is high', () => {
    const rule = anomalyRule();
    const s = emptyAlertState();
    expect(evaluateAnomaly(rule, s, anomaly(T, 'medium'))).toEqual([]);
    expect(s).toEqual(emptyAlertState()); // not even pending
    const [fired] = evaluateAnomaly(rule, s, anomaly(T + MIN, 'high'));
    const fp = fingerprint('rule-2', { service: 'checkout' });
    expect(fired).toMatchObject({
      alert_id: `${fp}:firing:${T + MIN}`,
      status: 'firing',
      starts_at: T + MIN,
      value: 812,
      labels: { alertname: 'checkout anomalous', rule_id: 'rule-2', service: 'checkout', severity: 'warning' },
      annotations: { summary: 'high anomaly in http_request_duration_ms for checkout: 812 vs baseline 200 (+306%)' },
    });
    expect(evaluateAnomaly(rule, s, anomaly(T + 2 * MIN, 'critical'))).toEqual([]); // already firing
  });

  it('resolves after resolve_after without a matching anomaly, via advance, at last anomaly + resolve_after', () => {
    const rule = anomalyRule(); // resolve_after 5m
    const s = emptyAlertState();
    evaluateAnomaly(rule, s, anomaly(T));
    evaluateAnomaly(rule, s, anomaly(T + MIN));
    evaluateAnomaly(rule, s, anomaly(T + 2 * MIN, 'medium')); // does not count as more trouble
    expect(advance(rule, s, T + 5 * MIN)).toEqual([]); // 4m quiet
    const [resolved] = advance(rule, s, T + 6 * MIN + 30_000); // a rollup (or the sweep) 5m30s after the last
    expect(resolved).toMatchObject({ status: 'resolved', starts_at: T, ends_at: T + 6 * MIN, received_at: T + 6 * MIN + 30_000, value: null });
    expect(resolved!.annotations.summary).toBe('no high or worse anomaly for checkout for 5m');
    expect(advance(rule, s, T + 7 * MIN)).toEqual([]);
    expect(s).toMatchObject({ phase: 'inactive', last_resolved_at: T + 6 * MIN });
  });

  it('a late anomaly after a long silence resolves the old alert first, then fires anew once out of cooldown', () => {
    const rule = anomalyRule();
    const s = emptyAlertState();
    evaluateAnomaly(rule, s, anomaly(T));
    const out = evaluateAnomaly(rule, s, anomaly(T + 10 * MIN));
    expect(out.map((a) => [a.status, a.starts_at, a.ends_at])).toEqual([
      ['resolved', T, T + 5 * MIN],
      ['firing', T + 10 * MIN, null],
    ]);
  });

  it('for: sustained anomalies fire once `for` has passed; a gap of resolve_after restarts the clock', () => {
    const rule = anomalyRule({ for: '2m', resolve_after: '3m' });
    const s = emptyAlertState();
    expect(evaluateAnomaly(rule, s, anomaly(T))).toEqual([]);
    expect(evaluateAnomaly(rule, s, anomaly(T + MIN))).toEqual([]);
    expect(evaluateAnomaly(rule, s, anomaly(T + 5 * MIN))).toEqual([]); // 4m gap: pending again from here
    expect(s).toMatchObject({ phase: 'pending', since: T + 5 * MIN });
    expect(evaluateAnomaly(rule, s, anomaly(T + 6 * MIN))).toEqual([]);
    expect(evaluateAnomaly(rule, s, anomaly(T + 7 * MIN))).toMatchObject([{ status: 'firing', starts_at: T + 5 * MIN }]);
  });

  it('advance drops a pending anomaly alert quietly', () => {
    const rule = anomalyRule({ for: '10m' });
    const s = emptyAlertState();
    evaluateAnomaly(rule, s, anomaly(T));
    expect(advance(rule, s, T + 5 * MIN)).toEqual([]);
    expect(s.phase).toBe('inactive');
  });

  it('cooldown holds a refire after a resolve', () => {
    const rule = anomalyRule({ cooldown: '10m' });
    const s = emptyAlertState();
    evaluateAnomaly(rule, s, anomaly(T));
    advance(rule, s, T + 5 * MIN); // resolved, ends_at T+5m
    expect(evaluateAnomaly(rule, s, anomaly(T + 6 * MIN))).toEqual([]);
    expect(evaluateAnomaly(rule, s, anomaly(T + 10 * MIN))).toEqual([]);
    expect(evaluateAnomaly(rule, s, anomaly(T + 14 * MIN))).toEqual([]);
    expect(s.phase).toBe('pending');
    expect(evaluateAnomaly(rule, s, anomaly(T + 15 * MIN))).toMatchObject([{ status: 'firing', starts_at: T + 6 * MIN }]); // cooldown over
  });

  it('only its service and, when named, its metric', () => {
    const rule = anomalyRule({ metric: 'error_rate' });
    const s = emptyAlertState();
    expect(evaluateAnomaly(rule, s, anomaly(T))).toEqual([]); // latency anomaly
    expect(evaluateAnomaly(rule, s, anomaly(T, 'critical', { service: 'cart', metric_name: 'error_rate' }))).toEqual([]);
    expect(evaluateAnomaly(rule, s, anomaly(T, 'critical', { tenant: 'other', metric_name: 'error_rate' }))).toEqual([]);
    const [fired] = evaluateAnomaly(rule, s, anomaly(T, 'critical', { metric_name: 'error_rate', kind: 'error_rate' }));
    expect(fired).toMatchObject({ status: 'firing', labels: { metric_name: 'error_rate', service: 'checkout' } });
    expect(seriesKeyOf(rule, anomaly(T))).toBe(seriesKeyOf(rule, anomaly(T + MIN, 'high', { labels: { service: 'checkout', pod: 'x' } })));
  });

  it('replaying an anomaly emits nothing', () => {
    const rule = anomalyRule();
    const s = emptyAlertState();
    expect(evaluateAnomaly(rule, s, anomaly(T))).toHaveLength(1);
    advance(rule, s, T + 5 * MIN);
    expect(evaluateAnomaly(rule, s, anomaly(T))).toEqual([]);
    expect(s.phase).toBe('inactive');
  });

  it('a disabled rule emits nothing', () => {
    const rule = anomalyRule({ enabled: false });
    const s = emptyAlertState();
    expect([anomaly(T, 'critical'), anomaly(T + MIN, 'critical')].flatMap((a) => evaluate(rule, s, a))).toEqual([]);
    expect(advance(rule, s, T + 10 * MIN)).toEqual([]);
    expect(s.phase).toBe('inactive');
  });
});
