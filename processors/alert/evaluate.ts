import { createHash } from 'node:crypto';
import { sortKeys } from '../../lib/labels.ts';
import { scaleRank } from '../../lib/severity.ts';
import type { AlertRecord, Anomaly, MetricRollup } from '../../schemas/topics.ts';
import { formatDuration } from '../../tenant-config/duration.ts';
import type { AnomalyRule, StoredRule, ThresholdRule } from '../../tenant-config/alert-rules.ts';

/**
 * Alert rule evaluation for one (rule, series). Pure: the processor loads the
 * state (key: `seriesKeyOf`), applies inputs in order, saves it back and
 * publishes what was returned. Time is event time: a rollup's `window_end`,
 * an anomaly's `detected_at`, or the time handed to `advance`.
 *
 * Threshold rules, on each rollup of their series:
 * - condition true while inactive → pending. `since` = the window's start
 *   (where the breaching data begins, the alert's starts_at); the `for`
 *   clock starts at the window's end (`active_at`), the first evaluation
 *   that saw it, as Prometheus's activeAt does;
 * - condition true and `window_end − active_at ≥ for` → firing. With 1-minute
 *   windows and `for: 2m` that is the third breaching window in a row, as
 *   in Prometheus with a 1-minute evaluation interval; `for: 0s` fires on the
 *   first;
 * - condition false: pending → inactive (nothing emitted); firing → resolved,
 *   ends_at = that window's end.
 * - no new window for the staleness interval (`expireStale`): the series
 *   went stale, as a Prometheus series does after 5 minutes without samples.
 *   Pending → inactive; firing → resolved, value null, annotation
 *   `resolved_reason: stale`, ends_at = last window's end + the interval.
 * `advance` does nothing for a threshold alert.
 *
 * Anomaly rules, on each anomaly of their service (and metric, if the rule
 * names one) of at least `min_severity`; others are ignored entirely:
 * - the first → pending, `since` = `active_at` = its detected_at; fires once
 *   a matching anomaly comes `for` after that (`for: 0s`: at once);
 * - `resolve_after` without a matching anomaly ends it: pending → inactive,
 *   firing → resolved with ends_at = last anomaly + resolve_after (not the
 *   time of the call, so the sweep's timing does not change the record).
 *   A gap that long between two anomalies restarts the `for` clock.
 *   Quiet time only shows when time moves without anomalies, so the
 *   processor calls `advance` on every rollup of the service (rollups keep
 *   flowing for a healthy service) and on a wall-clock sweep.
 *
 * Cooldown (flapping protection), both kinds: an alert does not fire again
 * until `cooldown` after its last resolution (event time, from ends_at). A
 * condition that holds during the cooldown stays pending with its clocks
 * running, and fires at the first evaluation after the cooldown ends (if
 * still true), starts_at still where it began; one that clears meanwhile
 * goes back to inactive without a word.
 *
 * Replays are safe: an input at or before `last_seen` (the event time of the
 * last input applied) changes nothing and emits nothing, so reprocessing a
 * partition after a crash does not alert twice. Each record's alert_id
 * (`${fingerprint}:${status}:${starts_at}`) is also stable, for sinks.
 *
 * A disabled rule fires nothing; if it was firing, its next input (or
 * `retire`, which the API should call when it disables or deletes a rule)
 * resolves the alert.
 */

export interface AlertState {
  phase: 'inactive' | 'pending' | 'firing';
  /** Where the condition began (first breaching window's start, first anomaly's time): starts_at. null when inactive. */
  since: number | null;
  /** When the `for` clock started (first breaching window's end, first anomaly's time). null when inactive. */
  active_at: number | null;
  /** The last value evaluated: the rollup field, or the anomaly's current_value. */
  last_value: number | null;
  /** Event time of the last input applied; inputs at or before it are replays. For anomaly rules, the last matching anomaly. */
  last_seen: number | null;
  last_fired_at: number | null;
  last_resolved_at: number | null;
  /** The series' labels, for records emitted without an input (`advance`, `retire`). */
  labels: Record<string, string> | null;
  /**
   * Wall-clock time the last input was applied (replays do not count): when
   * this series was last heard from, for staleness. Absent in states saved
   * before it existed.
   */
  last_received_at?: number | null;
}

export const emptyAlertState = (): AlertState => ({
  phase: 'inactive',
  since: null,
  active_at: null,
  last_value: null,
  last_seen: null,
  last_fired_at: null,
  last_resolved_at: null,
  labels: null,
  last_received_at: null,
});

type Input = MetricRollup | Anomaly;
const isAnomaly = (input: Input): input is Anomaly => 'detected_at' in input;

/**
 * The state's key: the rule id, plus the series' labels for threshold rules
 * (one alert per matching series). An anomaly rule has one alert, so one key.
 */
export function seriesKeyOf(rule: StoredRule, input: Input): string {
  if (rule.kind === 'anomaly') return rule.id;
  let key = rule.id;
  for (const name of Object.keys(input.labels).sort()) key += `\u0000${name}\u0000${input.labels[name]}`;
  return key;
}

/** Whether a rollup belongs to a threshold rule: same tenant, service and metric, and the rule's labels all present with equal values. */
export function matchesRollup(rule: StoredRule, r: MetricRollup): boolean {
  if (rule.kind !== 'threshold' || r.tenant !== rule.tenant || r.service !== rule.service || r.metric_name !== rule.metric) return false;
  for (const name in rule.labels) if (r.labels[name] !== rule.labels[name]) return false;
  return true;
}

/** Whether an anomaly counts for an anomaly rule: same tenant and service, metric if the rule names one, severity at least min_severity. */
export function matchesAnomaly(rule: StoredRule, a: Anomaly): boolean {
  if (rule.kind !== 'anomaly' || a.tenant !== rule.tenant || a.service !== rule.service) return false;
  if (rule.metric !== null && a.metric_name !== rule.metric) return false;
  return scaleRank(a.severity) >= scaleRank(rule.min_severity);
}

/** Evaluates a threshold rule on one rollup of its series (anything else is ignored); `receivedAt` is the wall clock, for staleness. */
export function evaluateRollup(rule: StoredRule, state: AlertState, r: MetricRollup, receivedAt = Date.now()): AlertRecord[] {
  if (rule.kind !== 'threshold' || !matchesRollup(rule, r)) return [];
  if (state.last_seen !== null && r.window_end <= state.last_seen) return [];
  if (!rule.enabled) return retire(rule, state, r.window_end);
  const value = fieldOf(r, rule.field);
  if (!Number.isFinite(value)) return []; // avg of an empty window: no data, no opinion
  const at = r.window_end;
  state.last_seen = at;
  state.last_value = value;
  state.labels ??= r.labels;
  state.last_received_at = receivedAt;

  if (!breaches(rule, value)) {
    if (state.phase === 'firing') return [resolve(rule, state, at, at, value, thresholdSummary(rule, r.labels, value, 'resolved'))];
    toInactive(state);
    return [];
  }
  if (state.phase === 'firing') return [];
  if (state.phase === 'inactive') {
    state.phase = 'pending';
    state.since = r.window_start;
    state.active_at = at;
  }
  if (!due(rule, state, at)) return [];
  return [fire(rule, state, at, value, thresholdSummary(rule, r.labels, value, 'firing', at - state.since!))];
}

/** Evaluates an anomaly rule on one anomaly (non-matching ones are ignored, state untouched). */
export function evaluateAnomaly(rule: StoredRule, state: AlertState, a: Anomaly): AlertRecord[] {
  if (rule.kind !== 'anomaly' || !matchesAnomaly(rule, a)) return [];
  if (state.last_seen !== null && a.detected_at <= state.last_seen) return [];
  if (!rule.enabled) return retire(rule, state, a.detected_at);
  const at = a.detected_at;
  const out = advance(rule, state, at); // a long silence before this one ended whatever was going on
  state.last_seen = at;
  state.last_value = a.current_value;
  state.labels = anomalySeriesLabels(rule);

  if (state.phase === 'firing') return out;
  if (state.phase === 'inactive') {
    state.phase = 'pending';
    state.since = at;
    state.active_at = at;
  }
  if (due(rule, state, at)) out.push(fire(rule, state, at, a.current_value, anomalySummary(rule, a)));
  return out;
}

/** Either evaluation, by the input's kind. */
export function evaluate(rule: StoredRule, state: AlertState, input: Input, receivedAt = Date.now()): AlertRecord[] {
  return isAnomaly(input) ? evaluateAnomaly(rule, state, input) : evaluateRollup(rule, state, input, receivedAt);
}

/**
 * Moves time to `eventTime` without an input: ends anomaly alerts quiet for
 * `resolve_after`, and resolves what a disabled rule left firing. Call it for
 * every anomaly-rule state of a service on each of its rollups (at
 * window_end) and on a wall-clock sweep (at now). Calling it again changes nothing.
 */
export function advance(rule: StoredRule, state: AlertState, eventTime: number): AlertRecord[] {
  if (!rule.enabled) return retire(rule, state, eventTime);
  if (rule.kind !== 'anomaly' || state.phase === 'inactive' || state.last_seen === null) return [];
  const quietUntil = state.last_seen + rule.resolve_after_ms;
  if (eventTime < quietUntil) return [];
  if (state.phase === 'pending') {
    toInactive(state);
    return [];
  }
  return [
    resolve(
      rule,
      state,
      quietUntil,
      eventTime,
      null,
      `no ${rule.min_severity} or worse anomaly ${anomalyScope(rule)} for ${formatDuration(rule.resolve_after_ms)}`,
    ),
  ];
}

/**
 * Ends a threshold alert whose series went stale: no window applied for
 * `staleMs` of wall-clock time up to `now`, silence counted from
 * `listeningSince` at the earliest. Pending → inactive quietly; firing →
 * resolved with value null (the series has none) and ends_at = last
 * window's end + `staleMs`, in the series' own event time like every other
 * ends_at, so when the sweep runs does not change the record. A state saved
 * before arrivals were recorded starts its clock at the first call. Calling
 * it again changes nothing; a window arriving later is evaluated as usual
 * (the cooldown counts from this ends_at), and a replayed one (at or before
 * last_seen) is ignored as ever, arrival included. The record's alert_id is
 * that of any resolution of this firing, so a replay re-emits the same row.
 *
 * Why the wall clock, when the rest is event time: staleness is about data
 * that did not come, and only the wall clock moves when nothing comes. An
 * event-time watermark (the latest window_end of the partition or tenant)
 * stands still when every series of a tenant stops, which is exactly when
 * an alert must not stay firing forever; and it mixes time bases, so a
 * backfill of hour-old data next to live data would look stale at once.
 * Judged against arrival (not against event time), a backfill that keeps
 * flowing is not stale either. The processor passes its own start as
 * `listeningSince`, so time it was down (when it could hear nothing) does
 * not count. What it cannot tell apart: a processor lagging by more than
 * `staleMs` sees queued series as stale; they fire again when their windows
 * arrive, after the rule's cooldown.
 */
export function expireStale(rule: StoredRule, state: AlertState, now: number, staleMs: number, listeningSince = -Infinity): AlertRecord[] {
  if (rule.kind !== 'threshold' || state.phase === 'inactive' || state.last_seen === null) return [];
  state.last_received_at ??= now;
  if (now - Math.max(state.last_received_at, listeningSince) < staleMs) return [];
  if (state.phase === 'pending') {
    toInactive(state);
    return [];
  }
  const last = state.last_value === null ? '' : ` (last value ${num(state.last_value)})`;
  const summary = `${seriesText(rule, state.labels ?? {})}: no data for ${formatDuration(staleMs)}, the series went stale${last}`;
  return [resolve(rule, state, state.last_seen + staleMs, now, null, summary, { resolved_reason: 'stale' })];
}

/**
 * The rule no longer applies to this series (disabled, deleted, or edited
 * so that it means something else): resolves a firing alert at `at` and
 * leaves the state inactive. Idempotent.
 */
export function retire(rule: StoredRule, state: AlertState, at: number): AlertRecord[] {
  if (state.phase !== 'firing') {
    toInactive(state);
    return [];
  }
  return [resolve(rule, state, at, at, state.last_value, `rule ${rule.name} was disabled or removed`)];
}

function fieldOf(r: MetricRollup, field: ThresholdRule['field']): number {
  return field === 'avg' ? r.sum / r.count : r[field];
}

function breaches(rule: ThresholdRule, value: number): boolean {
  if (rule.op === 'gt') return value > rule.value;
  if (rule.op === 'lt') return value < rule.value;
  return value === rule.value;
}

/** Pending long enough, and not in the cooldown after the last resolution. */
function due(rule: StoredRule, state: AlertState, at: number): boolean {
  if (at - state.active_at! < rule.for_ms) return false;
  return state.last_resolved_at === null || at >= state.last_resolved_at + rule.cooldown_ms;
}

function toInactive(state: AlertState): void {
  state.phase = 'inactive';
  state.since = null;
  state.active_at = null;
}

function fire(rule: StoredRule, state: AlertState, at: number, value: number, summary: string): AlertRecord {
  state.phase = 'firing';
  state.last_fired_at = at;
  return record(rule, state, 'firing', { endsAt: null, receivedAt: at, value, summary });
}

function resolve(
  rule: StoredRule,
  state: AlertState,
  endsAt: number,
  receivedAt: number,
  value: number | null,
  summary: string,
  annotations: Record<string, string> = {},
): AlertRecord {
  const out = record(rule, state, 'resolved', { endsAt, receivedAt, value, summary, annotations });
  toInactive(state);
  state.last_resolved_at = endsAt;
  return out;
}

function record(
  rule: StoredRule,
  state: AlertState,
  status: AlertRecord['status'],
  o: { endsAt: number | null; receivedAt: number; value: number | null; summary: string; annotations?: Record<string, string> },
): AlertRecord {
  const seriesLabels = state.labels ?? (rule.kind === 'anomaly' ? anomalySeriesLabels(rule) : { service: rule.service });
  const fp = fingerprint(rule.id, seriesLabels);
  const startsAt = state.since!;
  return {
    alert_id: `${fp}:${status}:${startsAt}`,
    tenant: rule.tenant,
    service: rule.service,
    source: 'rule',
    alert_name: rule.name,
    status,
    severity: rule.severity,
    fingerprint: fp,
    // The series' labels include the rule's (they matched exactly).
    labels: sortKeys({ ...seriesLabels, service: rule.service, alertname: rule.name, rule_id: rule.id, severity: rule.severity }),
    // The rule's own annotations win over the summary (a tenant who wrote one meant it), not over why the alert ended.
    annotations: sortKeys({ summary: o.summary, ...rule.annotations, ...o.annotations }),
    starts_at: startsAt,
    ends_at: o.endsAt,
    received_at: o.receivedAt,
    generator_url: null,
    rule_id: rule.id,
    value: o.value,
  };
}

/** Stable per (rule, series): 16 hex digits of SHA-256 over the rule id and the sorted series labels. */
export function fingerprint(ruleId: string, seriesLabels: Record<string, string>): string {
  let text = ruleId;
  for (const name of Object.keys(seriesLabels).sort()) text += `\u0000${name}\u0000${seriesLabels[name]}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

const anomalySeriesLabels = (rule: AnomalyRule): Record<string, string> =>
  rule.metric === null ? { service: rule.service } : { metric_name: rule.metric, service: rule.service };

const OP_SIGN = { gt: '>', lt: '<', eq: '=' } as const;

/** "p99 of http_request_duration_ms{route="/pay"} for checkout is 812 > 500 for 3m" */
function thresholdSummary(rule: ThresholdRule, labels: Record<string, string>, value: number, status: AlertRecord['status'], heldMs = 0): string {
  const what = `${seriesText(rule, labels)} is ${num(value)}`;
  if (status === 'resolved') return `${what}, no longer ${OP_SIGN[rule.op]} ${num(rule.value)}`;
  return `${what} ${OP_SIGN[rule.op]} ${num(rule.value)}${heldMs > 0 ? ` for ${formatDuration(heldMs)}` : ''}`;
}

/** "high anomaly in http_request_duration_ms for checkout: 812 vs baseline 200 (+306%)" */
function anomalySummary(rule: AnomalyRule, a: Anomaly): string {
  const pct = Math.round(a.deviation_percent);
  return `${a.severity} anomaly in ${a.metric_name} for ${rule.service}: ${num(a.current_value)} vs baseline ${num(a.baseline_median)} (${pct >= 0 ? '+' : ''}${pct}%)`;
}

/** "p99 of http_request_duration_ms{route="/pay"} for checkout" */
function seriesText(rule: ThresholdRule, labels: Record<string, string>): string {
  const selector = Object.entries(labels)
    .filter(([name]) => name !== 'service')
    .map(([name, v]) => `${name}="${v}"`)
    .join(',');
  return `${rule.field} of ${rule.metric}${selector ? `{${selector}}` : ''} for ${rule.service}`;
}

const anomalyScope = (rule: AnomalyRule) => (rule.metric === null ? `for ${rule.service}` : `in ${rule.metric} for ${rule.service}`);

/** At most three decimals, no trailing zeros. */
const num = (v: number) => String(Math.round(v * 1000) / 1000);
