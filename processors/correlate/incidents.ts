import { createHash } from 'node:crypto';

/**
 * Incident correlation for one tenant and service. Pure: the processor loads
 * this state from Redis, applies signals in order, and saves it back.
 *
 * An incident opens when at least `minSignals` signals, one of them not a
 * deployment, fall within `window`. A deployment in the `suspectLookback`
 * before the first anomaly is named as the suspect. New signals attach to the
 * open incident; after `quietPeriod` without one it resolves; a resolved
 * incident absorbs nothing, and a new one cannot open within `cooldown`.
 * Time is event time: the signals' own timestamps.
 */
export interface CorrelationConfig {
  windowMs: number;
  minSignals: number;
  suspectLookbackMs: number;
  quietPeriodMs: number;
  cooldownMs: number;
}

const MINUTE = 60_000;
export const DEFAULT_CORRELATION: CorrelationConfig = {
  windowMs: 10 * MINUTE,
  minSignals: 2,
  suspectLookbackMs: 30 * MINUTE,
  quietPeriodMs: 15 * MINUTE,
  cooldownMs: 5 * MINUTE,
};

export type SignalKind = 'anomaly' | 'error_spike' | 'deployment' | 'alert';

export interface Signal {
  id: string;
  kind: SignalKind;
  at: number;
  summary: string;
  severity?: 'medium' | 'high' | 'critical';
  /** For deployments: the version deployed. */
  version?: string;
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
  severity: 'medium' | 'high' | 'critical';
  signals: Signal[];
  suspect_deployment: { id: string; version: string; at: number; minutes_before: number } | null;
}

export interface ServiceState {
  recent: Signal[]; // signals not in an incident, kept for the look-back
  open: Incident | null;
  lastResolvedAt: number | null;
  seen: string[]; // ids of signals already applied (bounded), so a replay changes nothing
}

export const emptyServiceState = (): ServiceState => ({ recent: [], open: null, lastResolvedAt: null, seen: [] });

const SEEN_LIMIT = 5000;
const RANK = { medium: 1, high: 2, critical: 3 } as const;

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
    inc.version++;
    inc.updated_at = Math.max(inc.updated_at, s.at);
    if (s.severity && RANK[s.severity] > RANK[inc.severity]) inc.severity = s.severity;
    out.push(snapshot(inc));
    return out;
  }

  state.recent.push(s);
  state.recent.sort((a, b) => a.at - b.at);
  const horizon = s.at - Math.max(cfg.windowMs, cfg.suspectLookbackMs);
  state.recent = state.recent.filter((r) => r.at >= horizon);

  const inCooldown = state.lastResolvedAt !== null && s.at < state.lastResolvedAt + cfg.cooldownMs;
  const inWindow = state.recent.filter((r) => r.at > s.at - cfg.windowMs && r.at <= s.at);
  const problems = inWindow.filter((r) => r.kind !== 'deployment');
  if (inCooldown || inWindow.length < cfg.minSignals || problems.length === 0) return out;

  const firstProblem = problems[0]!;
  const suspect = state.recent
    .filter((r) => r.kind === 'deployment' && r.at <= firstProblem.at && r.at >= firstProblem.at - cfg.suspectLookbackMs)
    .at(-1);
  const timeline = [...new Set([...(suspect ? [suspect] : []), ...inWindow])].sort((a, b) => a.at - b.at);
  const opened_at = timeline[0]!.at;
  const incident: Incident = {
    incident_id: incidentId(tenant, service, firstProblem.id),
    tenant,
    service,
    version: 1,
    status: 'open',
    opened_at,
    updated_at: s.at,
    resolved_at: null,
    severity: problems.reduce<'medium' | 'high' | 'critical'>((m, p) => (p.severity && RANK[p.severity] > RANK[m] ? p.severity : m), 'medium'),
    signals: timeline,
    suspect_deployment: suspect
      ? { id: suspect.id, version: suspect.version ?? '', at: suspect.at, minutes_before: Math.round(((firstProblem.at - suspect.at) / MINUTE) * 10) / 10 }
      : null,
  };
  state.open = incident;
  state.recent = state.recent.filter((r) => !timeline.includes(r));
  out.push(snapshot(incident));
  return out;
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
