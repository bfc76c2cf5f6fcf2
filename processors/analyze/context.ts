import type { ClickHouseClient } from '@clickhouse/client';
import { scaleRank } from '../../lib/severity.ts';
import { isoTimeShort } from '../../lib/time.ts';
import { selectRows } from '../../sql/rows.ts';
import type { IncidentRecord } from '../../schemas/topics.ts';
import { redact } from '../../lib/redact.ts';

/**
 * What the analyst knows about an incident: the incident itself, and what
 * ClickHouse holds around it (anomalies, error logs, deployments, firing
 * alerts, the state of its third-party dependencies). Loaded once per
 * analysis; the model and the rules read the same.
 */
export interface IncidentContext {
  incident: IncidentRecord;
  anomalies: ContextAnomaly[];
  errorLogs: { at: number; level: string; message: string; labels: Record<string, string> }[];
  deployments: { at: number; version: string; status: string; metadata: Record<string, string> }[];
  alerts: { name: string; severity: string; status: string; summary: string; at: number }[];
  dependencies: ContextDependency[];
}

/**
 * A third-party subject the service depends on (a status page's component, incident or maintenance), in
 * its state as of the incident's end: degraded still, or changed around the incident (recovered, say).
 */
export interface ContextDependency {
  provider: string;
  /** page | component | incident | maintenance */
  kind: string;
  subject: string;
  /** The provider's own word, and the one before it (null the first time the subject was seen). */
  status: string;
  previous: string | null;
  degraded: boolean;
  impact: string;
  message: string;
  url: string;
  /** When the subject entered this state (when Autopilot saw the change). */
  at: number;
}

export interface ContextAnomaly {
  metric: string;
  /** 'error_rate' anomalies are the error spikes; the rules tell them apart. */
  kind: string;
  labels: Record<string, string>;
  value: number;
  baseline: number;
  z: number;
  severity: string;
  at: number;
}

const MINUTE = 60_000;
/** Error logs read before the incident's last signal. */
const LOG_LOOKBACK_MS = 10 * MINUTE;
/** Deployments read before the incident opened (the correlator's suspect look-back). */
export const DEPLOYMENT_LOOKBACK_MS = 30 * MINUTE;
/** Dependencies that recovered are read when they changed this long before the incident opened (the correlator's look-back). */
const DEPENDENCY_LOOKBACK_MS = 30 * MINUTE;
/** Row caps: the rendering keeps far fewer; these only bound what one analysis reads. */
const LIMITS = { anomalies: 200, logs: 500, deployments: 20, alerts: 50, dependencies: 20 };

/**
 * Reads the context with parameterised queries only: tenant, service and ids
 * come from records that producers wrote. Times are epoch milliseconds on both
 * sides (toUnixTimestamp64Milli / fromUnixTimestamp64Milli), so the server's
 * time zone never matters. Deployments are read up to the incident's end, not
 * only before it opened: a rollback during the incident is worth knowing.
 * Dependencies are each subject's latest change as of the end: a component
 * degraded for hours changed long before the incident and is still a fact.
 */
export async function loadContext(ch: ClickHouseClient, incident: IncidentRecord, now = Date.now()): Promise<IncidentContext> {
  const end = Math.min(incident.resolved_at ?? incident.updated_at, now);
  const key = { tenant: incident.tenant, service: incident.service };
  const anomalyIds = incident.signals.filter((s) => s.kind === 'anomaly' || s.kind === 'error_spike').map((s) => s.id);

  const [anomalies, errorLogs, deployments, alerts, dependencies] = await Promise.all([
    selectRows<RawAnomaly>(
      ch,
      `SELECT metric_name, kind, labels, current_value, baseline_median, z_score, severity, toUnixTimestamp64Milli(detected_at) AS at
       FROM anomalies FINAL
       WHERE tenant = {tenant:String}
         AND (anomaly_id IN {ids:Array(String)}
              OR (service = {service:String} AND detected_at BETWEEN fromUnixTimestamp64Milli({from:Int64}) AND fromUnixTimestamp64Milli({to:Int64})))
       ORDER BY detected_at DESC LIMIT {limit:UInt32}`,
      { ...key, ids: anomalyIds, from: incident.opened_at, to: end, limit: LIMITS.anomalies },
    ),
    selectRows<RawLog>(
      ch,
      `SELECT toUnixTimestamp64Milli(timestamp) AS at, level, message, labels
       FROM log_entries FINAL
       WHERE tenant = {tenant:String} AND service = {service:String} AND level IN {levels:Array(String)}
         AND timestamp BETWEEN fromUnixTimestamp64Milli({from:Int64}) AND fromUnixTimestamp64Milli({to:Int64})
       ORDER BY timestamp DESC LIMIT {limit:UInt32}`,
      { ...key, levels: ['error', 'fatal'], from: incident.updated_at - LOG_LOOKBACK_MS, to: incident.updated_at, limit: LIMITS.logs },
    ),
    selectRows<RawDeployment>(
      ch,
      `SELECT toUnixTimestamp64Milli(timestamp) AS at, version, status, metadata
       FROM deployments FINAL
       WHERE tenant = {tenant:String} AND service = {service:String}
         AND timestamp BETWEEN fromUnixTimestamp64Milli({from:Int64}) AND fromUnixTimestamp64Milli({to:Int64})
       ORDER BY timestamp DESC LIMIT {limit:UInt32}`,
      { ...key, from: incident.opened_at - DEPLOYMENT_LOOKBACK_MS, to: end, limit: LIMITS.deployments },
    ),
    // Each alert's latest state (by fingerprint) as of `now`; only those still firing.
    selectRows<RawAlert>(
      ch,
      `SELECT alert_name, severity, status, annotations, toUnixTimestamp64Milli(starts_at) AS at
       FROM (
         SELECT alert_name, severity, status, annotations, starts_at
         FROM alerts FINAL
         WHERE tenant = {tenant:String} AND service = {service:String} AND received_at <= fromUnixTimestamp64Milli({now:Int64})
         ORDER BY received_at DESC
         LIMIT 1 BY fingerprint
       )
       WHERE status = 'firing'
       ORDER BY starts_at DESC LIMIT {limit:UInt32}`,
      { ...key, now, limit: LIMITS.alerts },
    ),
    // Each subject's latest change up to the end; kept if still degraded, or if it changed around the incident.
    selectRows<RawDependency>(
      ch,
      `SELECT provider, subject_kind, subject_name, from_status, to_status, degraded, impact, message, url, toUnixTimestamp64Milli(at) AS changed_at
       FROM (
         SELECT provider, subject_kind, subject_id, subject_name, from_status, to_status, degraded, impact, message, url, at
         FROM external_status_changes FINAL
         WHERE tenant = {tenant:String} AND service = {service:String} AND at <= fromUnixTimestamp64Milli({to:Int64})
         ORDER BY at DESC
         LIMIT 1 BY provider, subject_kind, subject_id
       )
       WHERE degraded OR at >= fromUnixTimestamp64Milli({from:Int64})
       ORDER BY at DESC LIMIT {limit:UInt32}`,
      { ...key, from: incident.opened_at - DEPENDENCY_LOOKBACK_MS, to: end, limit: LIMITS.dependencies },
    ),
  ]);

  return {
    incident,
    anomalies: anomalies.reverse().map((a) => ({
      metric: a.metric_name,
      kind: a.kind,
      labels: a.labels,
      value: a.current_value,
      baseline: a.baseline_median,
      z: a.z_score,
      severity: a.severity,
      at: Number(a.at),
    })),
    errorLogs: errorLogs.reverse().map((l) => ({ at: Number(l.at), level: l.level, message: l.message, labels: l.labels })),
    deployments: deployments.reverse().map((d) => ({ at: Number(d.at), version: d.version, status: d.status, metadata: d.metadata })),
    alerts: alerts.reverse().map((a) => ({
      name: a.alert_name,
      severity: a.severity,
      status: a.status,
      summary: a.annotations.summary ?? a.annotations.description ?? a.annotations.message ?? '',
      at: Number(a.at),
    })),
    dependencies: dependencies.reverse().map((d) => ({
      provider: d.provider,
      kind: d.subject_kind,
      subject: d.subject_name,
      status: d.to_status,
      previous: d.from_status,
      degraded: Boolean(d.degraded),
      impact: d.impact,
      message: d.message,
      url: d.url,
      at: Number(d.changed_at),
    })),
  };
}

// 64-bit integers arrive as strings in JSON; Number() above turns them back.
type Millis = string | number;
interface RawAnomaly {
  metric_name: string;
  kind: string;
  labels: Record<string, string>;
  current_value: number;
  baseline_median: number;
  z_score: number;
  severity: string;
  at: Millis;
}
interface RawLog {
  at: Millis;
  level: string;
  message: string;
  labels: Record<string, string>;
}
interface RawDeployment {
  at: Millis;
  version: string;
  status: string;
  metadata: Record<string, string>;
}
interface RawDependency {
  provider: string;
  subject_kind: string;
  subject_name: string;
  from_status: string | null;
  to_status: string;
  degraded: boolean | number;
  impact: string;
  message: string;
  url: string;
  changed_at: Millis;
}
interface RawAlert {
  alert_name: string;
  severity: string;
  status: string;
  annotations: Record<string, string>;
  at: Millis;
}

/**
 * The context as compact text for a prompt, at most `maxBytes` of UTF-8.
 * Every line goes through `redact`: log lines and alert texts carry secrets,
 * and labels carry addresses. Identical log messages (after redaction) are
 * one line with a count. Anomalies are one line per series. When the text is
 * too long, the oldest log lines go first, then the oldest timeline entries,
 * then the least severe series; the header, deployments, alerts and
 * dependencies stay, and only if they alone are too long is the text cut.
 * A degraded third-party dependency is named in the header, by provider: it
 * competes with the suspect deployment as the cause.
 */
export function renderContext(ctx: IncidentContext, opts: { maxBytes: number }): string {
  const inc = ctx.incident;
  const head = [
    `Incident ${inc.incident_id} on service ${inc.service}: ${inc.status}, severity ${inc.severity}, ` +
      `opened ${isoTimeShort(inc.opened_at)}, last signal ${isoTimeShort(inc.updated_at)}` +
      `${inc.resolved_at !== null ? `, resolved ${isoTimeShort(inc.resolved_at)}` : ''}, ${inc.signal_count} signals.`,
    inc.suspect_deployment
      ? `Suspect deployment (named by the correlator): ${inc.suspect_deployment.version} at ${isoTimeShort(inc.suspect_deployment.at)}, ` +
        `${inc.suspect_deployment.minutes_before} min before the first anomaly.`
      : 'The correlator named no suspect deployment.',
    ...dependencyHeadline(ctx),
  ];
  const deployments = section(
    `Deployments (${ctx.deployments.length}):`,
    ctx.deployments.map((d) => `- ${isoTimeShort(d.at)} ${d.version} ${d.status}${formatMap(d.metadata)}`),
  );
  const alerts = section(
    `Firing alerts (${ctx.alerts.length}):`,
    ctx.alerts.map((a) => `- since ${isoTimeShort(a.at)} ${a.name} [${a.severity}]${a.summary ? `: ${oneLine(a.summary)}` : ''}`),
  );

  const dependencies = section(
    `Third-party dependencies of ${inc.service} (their status pages, latest change of each; ${ctx.dependencies.length}):`,
    ctx.dependencies.map(
      (d) =>
        `- since ${isoTimeShort(d.at)} ${dependencyLabel(d)}: ${d.status} [impact ${d.impact}]` +
        `${d.degraded ? ', degraded' : `, recovered${d.previous ? ` from ${d.previous}` : ''}`}` +
        `${d.message ? `: ${truncate(oneLine(d.message), 200)}` : ''}${d.url ? ` (${d.url})` : ''}`,
    ),
  );

  const timeline = inc.signals.map((s) => ({
    at: s.at,
    text: `- ${isoTimeShort(s.at)} ${s.kind}${s.severity ? ` [${s.severity}]` : ''} ${oneLine(s.summary)}`,
  }));
  const series = seriesOf(ctx.anomalies);
  const logs = dedupeLogs(ctx.errorLogs);

  // Trimmable parts, each in display order; `drop` says which entry goes next.
  const parts = {
    timeline: { title: 'Timeline (from the correlator)', items: timeline, unit: 'older signals' },
    anomalies: { title: 'Anomalous series', items: series, unit: 'less severe series' },
    logs: { title: `Error logs in the ${LOG_LOOKBACK_MS / MINUTE} min before the last signal`, items: logs, unit: 'older distinct messages' },
  };
  const dropped = { timeline: 0, anomalies: 0, logs: 0 };
  const render = () =>
    [
      ...head,
      ...deployments,
      ...alerts,
      ...dependencies,
      ...trimmable(parts.anomalies, dropped.anomalies),
      ...trimmable(parts.timeline, dropped.timeline),
      ...trimmable(parts.logs, dropped.logs),
    ]
      .map(redact)
      .join('\n');

  let text = render();
  for (const name of ['logs', 'timeline', 'anomalies'] as const) {
    const part = parts[name];
    // Oldest (or least severe) first: the items are ordered so that the first is the one to drop.
    while (bytes(text) > opts.maxBytes && part.items.length > 0) {
      const over = bytes(text) - opts.maxBytes;
      let freed = 0;
      while (part.items.length > 0 && freed < over) {
        freed += bytes(part.items.shift()!.text) + 1;
        dropped[name]++;
      }
      text = render();
    }
  }
  return cutToBytes(text, opts.maxBytes);
}

/** How a dependency is named in text: its provider first, then what of it. */
export const dependencyLabel = (d: Pick<ContextDependency, 'provider' | 'kind' | 'subject'>): string =>
  `${d.provider} (${d.kind === 'component' ? d.subject : d.kind === 'page' ? 'status page' : `${d.kind} "${oneLine(d.subject)}"`})`;

/**
 * One line naming the providers in trouble. From the status rows when the sink has written them; else from
 * the correlator's dependency signals, whose summaries start with the provider (the sink and the analyst
 * read the same topic side by side, so the rows can lag behind the incident that cites them).
 */
function dependencyHeadline(ctx: IncidentContext): string[] {
  const service = ctx.incident.service;
  const degraded = ctx.dependencies.filter((d) => d.degraded);
  if (degraded.length > 0) {
    const named = degraded.map((d) => `${dependencyLabel(d)} ${d.status}, impact ${d.impact}, since ${isoTimeShort(d.at)}`);
    return [`Third-party dependencies of ${service} degraded, by their status pages: ${named.join('; ')}.`];
  }
  const signals = ctx.incident.signals.filter((s) => s.kind === 'dependency');
  if (ctx.dependencies.length === 0 && signals.length > 0) {
    return [`Third-party dependencies of ${service} reported degraded (the correlator's signals): ${signals.map((s) => oneLine(s.summary)).join('; ')}.`];
  }
  return [];
}

interface Item {
  at: number;
  text: string;
}

function trimmable(part: { title: string; items: Item[]; unit: string }, dropped: number): string[] {
  if (part.items.length === 0 && dropped === 0) return [];
  const note = dropped > 0 ? ` (${dropped} ${part.unit} left out)` : '';
  // Anomalous series are kept by severity but shown in time order.
  return [`${part.title}${note}:`, ...[...part.items].sort((a, b) => a.at - b.at).map((i) => i.text)];
}

const section = (title: string, lines: string[]) => (lines.length === 0 ? [] : [title, ...lines]);

/** One line per series (metric + labels), least severe first so trimming drops those. */
function seriesOf(anomalies: ContextAnomaly[]): Item[] {
  const bySeries = new Map<string, ContextAnomaly[]>();
  for (const a of anomalies) {
    const key = `${a.metric}${formatLabels(a.labels)}`;
    bySeries.set(key, [...(bySeries.get(key) ?? []), a]);
  }
  return [...bySeries.entries()]
    .map(([key, list]) => {
      const latest = list.at(-1)!;
      const peak = list.reduce((m, a) => (Math.abs(a.z) > Math.abs(m.z) ? a : m));
      const span = list.length > 1 ? `${list.length}× ${isoTimeShort(list[0]!.at)}..${isoTimeShort(latest.at)}` : isoTimeShort(latest.at);
      const kind = latest.kind === 'error_rate' ? ' (error rate)' : '';
      return {
        at: list[0]!.at,
        rank: Math.abs(peak.z) + scaleRank(peak.severity) * 1000,
        text: `- ${key}${kind} ${span}: latest ${num(latest.value)} vs baseline ${num(latest.baseline)}, peak z ${num(peak.z)} [${peak.severity}]`,
      };
    })
    .sort((a, b) => a.rank - b.rank)
    .map(({ at, text }) => ({ at, text }));
}

/** Identical messages (after redaction, so they differ only in what was hidden) become one line with a count; oldest last-seen first. */
function dedupeLogs(logs: IncidentContext['errorLogs']): Item[] {
  const groups = new Map<string, { first: number; last: number; count: number; level: string; message: string; labels: Record<string, string> }>();
  for (const l of logs) {
    const message = oneLine(redact(l.message));
    const key = `${l.level}\u0000${message}`;
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.first = Math.min(g.first, l.at);
      if (l.at >= g.last) {
        g.last = l.at;
        g.labels = l.labels;
      }
    } else groups.set(key, { first: l.at, last: l.at, count: 1, level: l.level, message, labels: l.labels });
  }
  return [...groups.values()]
    .sort((a, b) => a.last - b.last)
    .map((g) => ({
      at: g.last,
      text: `- ${g.count > 1 ? `${g.count}× ${isoTimeShort(g.first)}..${isoTimeShort(g.last)}` : isoTimeShort(g.last)} ${g.level}: ${truncate(g.message, 500)}${formatMap(g.labels)}`,
    }));
}

const num = (n: number) => String(Math.round(n * 100) / 100);
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const truncate = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}…` : s);
const formatLabels = (labels: Record<string, string>) => {
  const entries = Object.entries(labels).filter(([k]) => k !== 'service');
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${v}"`).join(',')}}`;
};
const formatMap = (m: Record<string, string>) => {
  const entries = Object.entries(m);
  return entries.length === 0 ? '' : ` (${entries.map(([k, v]) => `${k}=${truncate(oneLine(v), 120)}`).join(', ')})`;
};

const encoder = new TextEncoder();
const bytes = (s: string) => encoder.encode(s).length;

/** Cuts at a line end when one is near, never inside a UTF-8 character. */
function cutToBytes(text: string, maxBytes: number): string {
  if (bytes(text) <= maxBytes) return text;
  const marker = '\n[context cut to fit]';
  const room = Math.max(0, maxBytes - bytes(marker));
  let cut = new TextDecoder().decode(encoder.encode(text).slice(0, room)).replace(/\uFFFD$/, '');
  while (bytes(cut) > room) cut = cut.slice(0, -1);
  const lineEnd = cut.lastIndexOf('\n');
  if (lineEnd > cut.length / 2) cut = cut.slice(0, lineEnd);
  return bytes(marker) <= maxBytes ? `${cut}${marker}` : cut;
}
