import { createHash } from 'node:crypto';
import { moreSevere, scaleRank, type AnomalySeverity } from '../../lib/severity.ts';

/**
 * Incident correlation for one tenant and service. Pure: the processor loads
 * this state from Redis, applies signals in order, and saves it back.
 *
 * An incident opens when at least `minSignals` signals, one of them not a
 * deployment, fall within `window`. An anomaly counts towards opening only
 * if it is at least `openSeverity` and part of a run (its series' second
 * anomaly in a row, or a level shift): noisy series throw isolated 3σ and even 4σ
 * samples (the scenario and crash tests' steady phases did, across 32
 * series), and one sample is not an incident. Other anomalies still join an
 * incident that is open. Signals are counted by source: a run of anomalies on
 * one series is one signal, not one per sample. A deployment in the `suspectLookback`
 * before the first anomaly is named as the suspect. New signals attach to the
 * open incident; after `quietPeriod` without one it resolves; a resolved
 * incident absorbs nothing, and a new one cannot open within `cooldown`.
 * Time is event time: the signals' own timestamps.
 *
 * A dependency signal (a third-party status page says something the service
 * depends on is degraded) is judged like an alert: by its severity, from the
 * provider's impact. A major or critical outage opens an incident on its own
 * (see `standsAlone`); a minor one or a planned maintenance only joins one.
 * One that came in the look-back before the trouble started is put on the
 * new incident's timeline, like the suspect deployment: it may be the cause.
 */
export interface CorrelationConfig {
  windowMs: number;
  minSignals: number;
  suspectLookbackMs: number;
  quietPeriodMs: number;
  cooldownMs: number;
  openSeverity: AnomalySeverity;
}

const MINUTE = 60_000;
export const DEFAULT_CORRELATION: CorrelationConfig = {
  windowMs: 10 * MINUTE,
  minSignals: 2,
  suspectLookbackMs: 30 * MINUTE,
  quietPeriodMs: 15 * MINUTE,
  cooldownMs: 5 * MINUTE,
  openSeverity: 'high',
};

/** `dependency`: a third-party status page reports something the service depends on degraded (schemas/external_status_change.avsc). */
export type SignalKind = 'anomaly' | 'error_spike' | 'deployment' | 'alert' | 'dependency';

export interface Signal {
  id: string;
  kind: SignalKind;
  at: number;
  summary: string;
  severity?: AnomalySeverity;
  /** For deployments: the version deployed. */
  version?: string;
  /** For anomalies: how many in a row on its series, this one included (a level shift counts as a run). */
  consecutive?: number;
  /** What raised it (a series, a deployment): a run of anomalies from one series is one signal when counting. */
  source?: string;
  /** Announced work (a provider's scheduled maintenance): it joins an open incident but never opens one. */
  planned?: boolean;
}

export interface Incident {
  incident_id: string;
  tenant: string;
  service: string;
  version: number;
  status: 'open' | 'resolved';
  opened_at: number;
  updated_at: number;
  resolved_at: number | null;
  severity: AnomalySeverity;
  /** The timeline, capped at TIMELINE_LIMIT: the first signals and the latest ones (deployments always kept). */
  signals: Signal[];
  /** Every signal the incident absorbed, including those the capped timeline no longer lists. */
  signal_count: number;
  suspect_deployment: { id: string; version: string; at: number; minutes_before: number } | null;
  /** Where the trouble started: the first anomaly of the run that opened it. The suspect is measured from here. */
  first_problem_at: number;
}

export interface ServiceState {
  recent: Signal[]; // signals not in an incident, kept for the look-back
  open: Incident | null;
  lastResolvedAt: number | null;
  seen: string[]; // ids of signals already applied (bounded), so a replay changes nothing
}

export const emptyServiceState = (): ServiceState => ({ recent: [], open: null, lastResolvedAt: null, seen: [] });

const SEEN_LIMIT = 5000;

/** Applies one signal; returns the incident versions to emit (a resolution and/or an opening or update). */
export function applySignal(state: ServiceState, tenant: string, service: string, s: Signal, cfg = DEFAULT_CORRELATION): Incident[] {
  if (state.seen.includes(s.id)) return [];
  state.seen.push(s.id);
  if (state.seen.length > SEEN_LIMIT) state.seen.splice(0, state.seen.length - SEEN_LIMIT);

  const out: Incident[] = [];
  const resolved = resolveIfQuiet(state, s.at, cfg);
  if (resolved) out.push(resolved);

  if (state.open) {
    const inc = state.open;
    inc.signals.push(s);
    inc.signals.sort((a, b) => a.at - b.at);
    inc.signal_count++;
    capTimeline(inc);
    inc.version++;
    inc.updated_at = Math.max(inc.updated_at, s.at);
    if (s.severity) inc.severity = moreSevere(inc.severity, s.severity);
    // Topics are read independently: a deployment can arrive after the anomalies it caused,
    // and an earlier anomaly (another processor's) after the signal that opened the incident.
    if (s.kind === 'deployment') nameSuspect(inc, s, cfg);
    // Only what could have opened it moves the start, back to where its run began: an isolated noisy sample
    // read late (after a crash, detect replays partitions side by side) must not push the start before the
    // deployment, but the first sample of a run that has now become sustained does.
    else if (isSevere(s, cfg) && sustained(s)) {
      const start = runStart(inc.signals, s);
      if (start.at < inc.first_problem_at) moveFirstProblem(inc, start.at, cfg);
    }
    out.push(snapshot(inc));
    return out;
  }

  state.recent.push(s);
  state.recent.sort((a, b) => a.at - b.at);
  // The window ends at the latest signal, not at this one: topics are read independently, and a deployment
  // read after the anomalies that followed it must still open the incident with them.
  const end = Math.max(s.at, state.recent.at(-1)!.at);
  const horizon = end - Math.max(cfg.windowMs, cfg.suspectLookbackMs);
  state.recent = state.recent.filter((r) => r.at >= horizon);

  const inCooldown = state.lastResolvedAt !== null && s.at < state.lastResolvedAt + cfg.cooldownMs;
  const severe = (r: Signal) => isSevere(r, cfg);
  const counts = (r: Signal) => severe(r) && sustained(r);
  const qualifying = state.recent.filter((r) => r.at > end - cfg.windowMs && counts(r));
  const sources = new Set(qualifying.map((r) => r.source ?? r.id));
  const problems = qualifying.filter((r) => r.kind !== 'deployment');
  if (inCooldown || problems.length === 0 || (sources.size < cfg.minSignals && !problems.some(standsAlone))) return out;

  // Trouble started with the first anomaly of the earliest run, not with the sample that made the run count.
  const firstProblem = problems.map((q) => runStart(state.recent, q)).reduce((a, b) => (b.at < a.at ? b : a));
  const suspect = state.recent.filter((r) => r.kind === 'deployment' && r.at <= firstProblem.at && r.at >= firstProblem.at - cfg.suspectLookbackMs).at(-1);
  // A degraded dependency in the look-back is kept with the suspect deployment: a provider that went down first may be the cause.
  const timeline = state.recent.filter(
    (r) => r === suspect || r.at >= firstProblem.at || (r.kind === 'dependency' && r.at >= firstProblem.at - cfg.suspectLookbackMs),
  );
  const incident: Incident = {
    incident_id: incidentId(tenant, service, firstProblem.id),
    tenant,
    service,
    version: 1,
    status: 'open',
    opened_at: timeline[0]!.at,
    updated_at: end,
    resolved_at: null,
    severity: timeline.reduce<AnomalySeverity>((m, p) => (p.severity ? moreSevere(m, p.severity) : m), 'medium'),
    signals: timeline,
    signal_count: timeline.length,
    suspect_deployment: suspect ? suspectOf(suspect, firstProblem.at) : null,
    first_problem_at: firstProblem.at,
  };
  state.open = incident;
  state.recent = state.recent.filter((r) => !timeline.includes(r));
  out.push(snapshot(incident));
  return out;
}

/**
 * A long incident on a busy service gathers thousands of signals; every
 * version carries the timeline, so it is capped (found by the processors
 * benchmark: versions grew past Kafka's 1 MB message limit and the
 * correlator retried forever). Kept: deployments and dependency changes (few,
 * and what the analyst names as causes), the first signals (how it started)
 * and the latest (how it is going).
 */
export const TIMELINE_LIMIT = 60;

function capTimeline(inc: Incident): void {
  if (inc.signals.length <= TIMELINE_LIMIT) return;
  const keep = (x: Signal) => x.kind === 'deployment' || x.kind === 'dependency';
  const kept = inc.signals.filter(keep);
  const others = inc.signals.filter((x) => !keep(x));
  const room = Math.max(0, TIMELINE_LIMIT - kept.length);
  const head = others.slice(0, Math.ceil(room / 2));
  const tail = others.slice(others.length - Math.floor(room / 2));
  inc.signals = [...kept, ...head, ...tail].sort((a, b) => a.at - b.at);
}

/** An anomaly counts once it is part of a run (its series' second in a row, or a level shift); other signals always. */
const sustained = (r: Signal) => r.kind !== 'anomaly' || (r.consecutive ?? 1) >= 2;

/**
 * Anomalies, alerts and dependencies are judged by their severity (an info alert, a provider's minor
 * degradation open nothing); deployments and error spikes always count. Planned work never counts: a
 * provider's maintenance was announced and is expected; if it hurts the service, the service's own
 * symptoms open the incident and the maintenance is on its timeline.
 */
const isSevere = (r: Signal, cfg: CorrelationConfig) =>
  !r.planned && ((r.kind !== 'anomaly' && r.kind !== 'alert' && r.kind !== 'dependency') || scaleRank(r.severity ?? 'medium') >= scaleRank(cfg.openSeverity));

/**
 * A severe dependency signal opens an incident without a second source. `minSignals` is there against
 * noise: one surprising sample, one flapping series, one alert a tenant's rule may have set too tight.
 * A provider's own status page declaring a major or critical outage of a component the tenant says the
 * service depends on is neither noise nor a guess; waiting for the service's own symptoms to cross a
 * threshold would only delay the page (when the payment provider is down, checkout is). A minor
 * degradation is not severe under the default `openSeverity` and only joins, as a medium anomaly would
 * (an `openSeverity` of medium lets it open one, as it does for those).
 */
const standsAlone = (r: Signal) => r.kind === 'dependency';

/** The trouble started earlier than thought: re-measure the suspect from there, or pick an earlier one. */
function moveFirstProblem(inc: Incident, at: number, cfg: CorrelationConfig): void {
  inc.first_problem_at = at;
  const deployments = inc.signals.filter((x) => x.kind === 'deployment' && x.at <= at && x.at >= at - cfg.suspectLookbackMs);
  const latest = deployments.at(-1);
  inc.suspect_deployment = latest ? suspectOf(latest, at) : null;
}

/** The first signal of `q`'s run: `consecutive − 1` signals back on the same source. */
function runStart(recent: Signal[], q: Signal): Signal {
  const same = recent.filter((r) => (r.source ?? r.id) === (q.source ?? q.id) && r.at <= q.at);
  return same[Math.max(0, same.length - (q.consecutive ?? 1))] ?? q;
}

const suspectOf = (d: Signal, firstProblemAt: number) => ({
  id: d.id,
  version: d.version ?? '',
  at: d.at,
  minutes_before: Math.round(((firstProblemAt - d.at) / MINUTE) * 10) / 10,
});

/** Makes `d` the suspect if it is the latest deployment within the look-back before the first problem. */
function nameSuspect(inc: Incident, d: Signal, cfg: CorrelationConfig): void {
  if (d.at > inc.first_problem_at || d.at < inc.first_problem_at - cfg.suspectLookbackMs) return;
  if (inc.suspect_deployment && inc.suspect_deployment.at >= d.at) return;
  inc.suspect_deployment = suspectOf(d, inc.first_problem_at);
  inc.opened_at = Math.min(inc.opened_at, d.at);
}

/** Resolves the open incident if no signal came for `quietPeriod` before `now` (event time or wall clock). */
export function resolveIfQuiet(state: ServiceState, now: number, cfg = DEFAULT_CORRELATION): Incident | null {
  const inc = state.open;
  if (!inc || now - inc.updated_at < cfg.quietPeriodMs) return null;
  inc.status = 'resolved';
  inc.resolved_at = inc.updated_at + cfg.quietPeriodMs;
  inc.version++;
  state.open = null;
  state.lastResolvedAt = inc.resolved_at;
  return snapshot(inc);
}

const snapshot = (inc: Incident): Incident => structuredClone(inc);

/** Stable across replays: the same first signal always names the same incident. */
export function incidentId(tenant: string, service: string, firstSignalId: string): string {
  return `inc_${createHash('sha256').update(`${tenant}\u0000${service}\u0000${firstSignalId}`).digest('hex').slice(0, 20)}`;
}
