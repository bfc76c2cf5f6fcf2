import { scaleRank } from '../lib/severity.ts';
import { isoTime } from '../lib/time.ts';
import { type AssistantAnswer, assistantAnswer } from './answer.ts';
import type { Intent } from './intents.ts';
import { resolveRange, type TimeRange } from './time-range.ts';
import type { ToolContext } from './tool.ts';

export { type Intent, recognise } from './intents.ts';
export { knownServices } from './tools/services.ts';

/**
 * Answers without a model: for a recognised question (intents.ts), run the
 * tools that answer it, through the caller's `runTool` (so the message's
 * budgets and trace apply), and say what they found, by rules. Every finding
 * cites the evidence refs the tools returned; the confidence grows with what
 * was found and shrinks with every tool that failed. Deterministic: the same
 * tool results give the same answer.
 */
export type RunTool = (name: string, args: Record<string, unknown>) => Promise<{ ok: true; data: unknown } | { ok: false; error: string }>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A deployment this long before the trouble began is its suspect (the correlator's look-back). */
const SUSPECT_LOOKBACK_MS = 30 * MINUTE;
/** How far before the question's range deployments are read: a deployment hours earlier may still be the cause. */
const DEPLOYMENT_LOOKBACK_MS = 6 * HOUR;
/** A p95 change worth a finding. */
const NOTABLE_CHANGE_PERCENT = 20;

export async function answerWithRules(intent: Intent, ctx: Pick<ToolContext, 'now' | 'github'>, runTool: RunTool): Promise<AssistantAnswer> {
  const reads = new Reads(runTool);
  const answer =
    intent.kind === 'open_incidents'
      ? await openIncidents(intent.service, reads, ctx.now)
      : intent.kind === 'what_changed'
        ? await whatChanged(intent.service, rangeOf(intent.since, DAY, ctx.now), reads, ctx)
        : await serviceHealth(intent.service, rangeOf(intent.since, HOUR, ctx.now), reads, ctx.now);
  return finish(answer, reads);
}

// ---- What the tools return, as far as the rules read it (see assistant/tools/).

interface IncidentItem {
  id: string;
  ref: string;
  service: string;
  status: string;
  severity: string;
  opened_at: string;
  resolved_at: string | null;
  signals: number;
  suspect_deployment: { version: string; minutes_before_first_anomaly: number | null; ref: string } | null;
  root_cause: string | null;
  root_cause_confidence: number | null;
  analysis_source: string | null;
}
interface IncidentDetail extends IncidentItem {
  analysis: { recommended_actions: { action: string; priority: number }[] } | null;
}
interface AnomalyItem {
  ref: string;
  series_ref: string;
  service: string;
  metric: string;
  kind: string;
  severity: string;
  at: string;
  value: number;
  baseline: number;
  z: number;
}
interface LatencyItem {
  service: string;
  metric: string;
  ref: string;
  p95: number;
  p95_previous_range: number;
  change_percent: number;
}
interface ErrorRateItem {
  service: string;
  ref: string;
  errors: number;
  errors_per_minute: number;
  error_share: number;
  errors_previous_range: number;
  top_message: string | null;
}
interface DeploymentItem {
  service: string;
  version: string;
  ref: string;
  status: string;
  at: string;
}
interface AlertItem {
  ref: string;
  name: string;
  service: string;
  status: string;
  severity: string;
  since: string;
  resolved_at: string | null;
  summary: string;
}
interface StatusItem {
  provider: string;
  subject: string;
  ref: string;
  status: string;
  degraded: boolean;
  impact: string;
  since: string;
  message: string;
  url: string;
}
interface GitHubData {
  repository: string;
  pull_requests: { number: number; ref: string; title: string; author: string | null; merged_at: string }[];
  commits: { sha: string; ref: string; message: string; author: string | null; at: string | null }[];
}

/** Tool calls in order, each result or the error kept; what failed is said in the answer. */
class Reads {
  readonly failed: string[] = [];
  constructor(private readonly runTool: RunTool) {}

  async list<T>(tool: string, args: Record<string, unknown>, key: string): Promise<T[] | null> {
    const data = await this.one<Record<string, T[]>>(tool, args);
    return data ? (data[key] ?? []) : null;
  }

  async one<T>(tool: string, args: Record<string, unknown>): Promise<T | null> {
    const clean = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined && v !== null));
    const r = await this.runTool(tool, clean);
    if (r.ok) return r.data as T;
    this.failed.push(`${tool}: ${r.error}`);
    return null;
  }
}

type Draft = { summary: string; findings: AssistantAnswer['findings']; next_steps: string[]; confidence: number };

// ---- What is wrong with a service (or with anything).

async function serviceHealth(service: string | null, range: TimeRange, reads: Reads, now: number): Promise<Draft> {
  const span = { since: isoTime(range.from), until: isoTime(range.to) };
  const scope = { service: service ?? undefined };
  const incidents = (await reads.list<IncidentItem>('incidents', service ? { ...scope, ...span, limit: 5 } : { status: 'open', limit: 10 }, 'incidents')) ?? [];
  const open = incidents.filter((i) => i.status === 'open');
  const detail = service && (open[0] ?? incidents[0]) ? await reads.one<IncidentDetail>('incident', { id: (open[0] ?? incidents[0])!.id }) : null;
  const anomalies = (await reads.list<AnomalyItem>('anomalies', { ...scope, ...span, severity: service ? undefined : 'high', limit: 50 }, 'anomalies')) ?? [];
  const latency = (await reads.list<LatencyItem>('top_services', { by: 'latency_change', ...scope, ...span, limit: 5 }, 'services')) ?? [];
  const errors = (await reads.list<ErrorRateItem>('top_services', { by: 'error_rate', ...scope, ...span, limit: service ? 1 : 5 }, 'services')) ?? [];
  const deploys =
    (await reads.list<DeploymentItem>(
      'deployments',
      { ...scope, since: isoTime(range.from - DEPLOYMENT_LOOKBACK_MS), until: span.until, limit: 10 },
      'deployments',
    )) ?? [];
  const dependencies = ((await reads.list<StatusItem>('external_status', { ...scope, limit: 5 }, 'subjects')) ?? []).filter((s) => s.degraded);

  const rising = latency.filter((l) => l.change_percent >= NOTABLE_CHANGE_PERCENT);
  const erroring = errors.filter((e) => e.errors > 0);
  const firstTrouble = Math.min(...anomalies.map((a) => Date.parse(a.at)), ...incidents.map((i) => Date.parse(i.opened_at)));
  const suspect = suspectOf(incidents, deploys, firstTrouble);
  const who = service ?? 'your services';
  const findings: AssistantAnswer['findings'] = [
    ...incidents.slice(0, 3).map((i) => incidentFinding(i, now)),
    ...anomalyFindings(anomalies, now, service === null),
    ...rising.slice(0, 3).map((l) => latencyFinding(l)),
    ...erroring.slice(0, 3).map((e) => errorFinding(e)),
    ...deploymentFindings(deploys, firstTrouble, now, service === null ? 3 : 2),
    ...dependencies.map((d) => dependencyFinding(d, now)),
  ];

  const problems = [
    open.length > 0 ? `${count(open.length, 'open incident')} (${open.map((i) => `${service ? '' : `${i.service} `}${i.severity}`).join(', ')})` : '',
    service && open.length === 0 && incidents.length > 0 ? `${count(incidents.length, 'incident')} resolved in the range` : '',
    ...rising
      .slice(0, 2)
      .map((l) => `p95 of ${l.metric}${service ? '' : ` on ${l.service}`} up ${Math.round(l.change_percent)}% (${l.p95_previous_range} → ${l.p95})`),
    anomalies.length > 0
      ? `${count(anomalies.length, 'anomaly', 'anomalies')} (worst ${worst(anomalies)!.severity} on ${service ? '' : `${worst(anomalies)!.service} `}${worst(anomalies)!.metric})`
      : '',
    ...erroring.slice(0, 2).map((e) => `${e.errors} error log lines${service ? '' : ` on ${e.service}`} (${rate(e.errors_per_minute)}/min)`),
    ...dependencies.slice(0, 2).map((d) => `${d.provider} ${d.subject} ${d.status}`),
  ].filter(Boolean);

  const since = `since ${clock(range.from, now)}`;
  const cause = suspect
    ? ` Likely cause: deployment ${suspect.version}${service ? '' : ` of ${suspect.service}`} at ${clock(Date.parse(suspect.at), now)}${suspect.minutes === null ? '' : `, ${suspect.minutes} min before the trouble began`}.`
    : dependencies.length > 0
      ? ` A third-party dependency is degraded: ${dependencies.map((d) => `${d.provider} ${d.subject}`).join(', ')}.`
      : (open[0]?.root_cause ?? incidents[0]?.root_cause)
        ? ` Latest analysis: ${open[0]?.root_cause ?? incidents[0]?.root_cause}`
        : '';
  const summary =
    problems.length > 0
      ? `${who} ${since}: ${problems.join('; ')}.${cause}`
      : `Nothing wrong found with ${who} ${since}: no ${service ? '' : 'open '}incidents, anomalies, latency rise or error logs, and no degraded third-party dependency.` +
        (deploys[0] ? ` Latest deployment: ${deploys[0].service} ${deploys[0].version} at ${clock(Date.parse(deploys[0].at), now)}.` : '');

  const next = [
    ...(detail?.analysis?.recommended_actions ?? [])
      .slice()
      .sort((a, b) => a.priority - b.priority)
      .slice(0, 2)
      .map((a) => a.action),
    // The analyst's own actions come first; a rollback is suggested here only when they do not say so already.
    suspect && !detail?.analysis?.recommended_actions.some((a) => /\broll(?:ing)? ?back|\brevert/i.test(a.action))
      ? `If the trouble began after ${suspect.version}, roll ${suspect.service} back to the version before it and watch p95 and the error rate.`
      : '',
    ...dependencies.slice(0, 1).map((d) => `Follow ${d.provider}'s status page${d.url ? ` (${d.url})` : ''}; route around ${d.subject} if you can.`),
    erroring[0] ? `Read ${erroring[0].service}'s error logs ${since}${erroring[0].top_message ? ` (most frequent: "${erroring[0].top_message}")` : ''}.` : '',
    rising.length > 0 && !suspect ? `Compare when p95 of ${rising[0]!.metric} rose with recent changes (configuration, traffic, dependencies).` : '',
    problems.length === 0 ? 'If users still see trouble, ask about a longer range, or ask again when the model is available.' : '',
  ];
  const score =
    problems.length === 0
      ? 35
      : 20 +
        (incidents.length > 0 ? 20 : 0) +
        (incidents.some((i) => i.root_cause) ? 10 : 0) +
        (anomalies.length > 0 ? 15 : 0) +
        (rising.length > 0 ? 10 : 0) +
        (erroring.length > 0 ? 10 : 0) +
        (suspect ? 10 : 0) +
        (dependencies.length > 0 ? 5 : 0);
  return { summary, findings, next_steps: next.filter(Boolean), confidence: Math.min(90, score) };
}

function incidentFinding(i: IncidentItem, now: number) {
  const s = i.suspect_deployment;
  const state =
    i.status === 'open' ? `open since ${clock(Date.parse(i.opened_at), now)}` : `resolved at ${i.resolved_at ? clock(Date.parse(i.resolved_at), now) : '?'}`;
  return {
    statement:
      `${cap(i.severity)} incident on ${i.service}, ${state} (${count(i.signals, 'signal')})` +
      (s
        ? `; the correlator's suspect is deployment ${s.version}${s.minutes_before_first_anomaly === null ? '' : `, ${s.minutes_before_first_anomaly} min before its first anomaly`}`
        : '') +
      (i.root_cause
        ? `. Latest analysis (${i.analysis_source ?? 'unknown source'}${i.root_cause_confidence === null ? '' : `, ${Math.round(i.root_cause_confidence * 100)}%`}): ${i.root_cause}`
        : '. Not analysed yet.'),
    evidence: s ? [i.ref, s.ref] : [i.ref],
  };
}

/** One finding per anomalous series, worst first (severity, then |z|). */
function anomalyFindings(anomalies: AnomalyItem[], now: number, withService: boolean) {
  const bySeries = new Map<string, AnomalyItem[]>();
  for (const a of anomalies) bySeries.set(a.series_ref, [...(bySeries.get(a.series_ref) ?? []), a]);
  return [...bySeries.entries()]
    .map(([ref, list]) => ({ ref, list, top: worst(list)! }))
    .sort((a, b) => rank(b.top) - rank(a.top))
    .slice(0, 3)
    .map(({ ref, list, top }) => {
      const first = Math.min(...list.map((a) => Date.parse(a.at)));
      const what = top.kind === 'error_rate' ? 'error-rate spike' : 'anomaly';
      return {
        statement:
          `${count(list.length, what, `${what === 'anomaly' ? 'anomalies' : `${what}s`}`)} on ${withService ? `${top.service} ` : ''}${top.metric} since ${clock(first, now)}; ` +
          `worst ${top.severity}: ${top.value} against a baseline of ${top.baseline} (z ${top.z}) at ${clock(Date.parse(top.at), now)}`,
        evidence: [ref, ...list.slice(0, 5).map((a) => a.ref)],
      };
    });
}

const latencyFinding = (l: LatencyItem) => ({
  statement: `p95 of ${l.metric} on ${l.service} is ${l.p95}, against ${l.p95_previous_range} in the range before (${l.change_percent > 0 ? '+' : ''}${Math.round(l.change_percent)}%)`,
  evidence: [l.ref],
});

const errorFinding = (e: ErrorRateItem) => ({
  statement:
    `${e.service} logged ${e.errors} error lines (${rate(e.errors_per_minute)}/min, ${Math.round(e.error_share * 100)}% of its lines; ${e.errors_previous_range} in the range before)` +
    (e.top_message ? `; most frequent: "${e.top_message}"` : ''),
  evidence: [e.ref],
});

const dependencyFinding = (d: StatusItem, now: number) => ({
  statement: `${d.provider} ${d.subject} is ${d.status} (impact ${d.impact}) since ${clock(Date.parse(d.since), now)}${d.message ? `: ${d.message}` : ''}`,
  evidence: [d.ref],
});

/** The latest event of each deployed version (newest first), said against when the trouble began when it was shortly before. */
function deploymentFindings(deploys: DeploymentItem[], firstTrouble: number, now: number, max: number) {
  return latestPerVersion(deploys)
    .slice(0, max)
    .map((d) => {
      const at = Date.parse(d.at);
      const before = Number.isFinite(firstTrouble) && at <= firstTrouble && firstTrouble - at <= HOUR ? Math.round((firstTrouble - at) / MINUTE) : null;
      return {
        statement: `${d.service} ${d.version} deployed at ${clock(at, now)} (${d.status})${before === null ? '' : `, ${before} min before the trouble began`}`,
        evidence: [d.ref],
      };
    });
}

/** The incident's suspect, else the latest deployment shortly before the first trouble. */
function suspectOf(
  incidents: IncidentItem[],
  deploys: DeploymentItem[],
  firstTrouble: number,
): { service: string; version: string; at: string; minutes: number | null } | null {
  const named = incidents.find((i) => i.suspect_deployment);
  if (named) {
    const s = named.suspect_deployment!;
    const d = deploys.find((x) => x.ref === s.ref);
    return { service: named.service, version: s.version, at: d?.at ?? named.opened_at, minutes: s.minutes_before_first_anomaly };
  }
  if (!Number.isFinite(firstTrouble)) return null;
  const d = deploys.find((x) => Date.parse(x.at) <= firstTrouble && Date.parse(x.at) >= firstTrouble - SUSPECT_LOOKBACK_MS);
  return d ? { service: d.service, version: d.version, at: d.at, minutes: Math.round((firstTrouble - Date.parse(d.at)) / MINUTE) } : null;
}

// ---- What changed.

async function whatChanged(service: string | null, range: TimeRange, reads: Reads, ctx: Pick<ToolContext, 'now' | 'github'>): Promise<Draft> {
  const now = ctx.now;
  const span = { since: isoTime(range.from), until: isoTime(range.to) };
  const scope = { service: service ?? undefined };
  const deploys = (await reads.list<DeploymentItem>('deployments', { ...scope, ...span, limit: 50 }, 'deployments')) ?? [];
  const incidents = ((await reads.list<IncidentItem>('incidents', { ...scope, ...span, limit: 20 }, 'incidents')) ?? []).filter(
    (i) => Date.parse(i.opened_at) >= range.from,
  );
  const fired = ((await reads.list<AlertItem>('alerts', { ...scope, ...span, limit: 20 }, 'alerts')) ?? []).filter(
    (a) => Date.parse(a.since) >= range.from || a.resolved_at !== null,
  );
  const statuses = ((await reads.list<StatusItem>('external_status', { ...scope, ...span, include_recovered: true, limit: 20 }, 'subjects')) ?? []).filter(
    (s) => Date.parse(s.since) >= range.from,
  );
  const shifts = ((await reads.list<LatencyItem>('top_services', { by: 'latency_change', ...scope, ...span, limit: 20 }, 'services')) ?? []).filter(
    (l) => Math.abs(l.change_percent) >= NOTABLE_CHANGE_PERCENT,
  );
  const code = service && ctx.github?.repos[service] ? await reads.one<GitHubData>('github_activity', { service, ...span, limit: 20 }) : null;

  const versions = latestPerVersion(deploys);
  const findings: AssistantAnswer['findings'] = [
    ...versions
      .slice(0, 8)
      .map((d) => ({ statement: `${d.service} ${d.version} deployed at ${clock(Date.parse(d.at), now)} (${d.status})`, evidence: [d.ref] })),
    ...(versions.length > 8
      ? [
          {
            statement: `${versions.length - 8} more deployments: ${versions
              .slice(8)
              .map((d) => `${d.service} ${d.version}`)
              .join(', ')}`,
            evidence: versions.slice(8, 28).map((d) => d.ref),
          },
        ]
      : []),
    ...incidents.slice(0, 5).map((i) => incidentFinding(i, now)),
    ...fired.slice(0, 5).map((a) => ({
      statement:
        `Alert ${a.name} on ${a.service || 'no service'} [${a.severity}] ` +
        (a.status === 'firing'
          ? `firing since ${clock(Date.parse(a.since), now)}`
          : `fired at ${clock(Date.parse(a.since), now)}, resolved ${a.resolved_at ? clock(Date.parse(a.resolved_at), now) : ''}`) +
        (a.summary ? `: ${a.summary}` : ''),
      evidence: [a.ref],
    })),
    ...statuses.slice(0, 5).map((s) => ({
      statement: `${s.provider} ${s.subject} ${s.degraded ? `became ${s.status} (impact ${s.impact})` : `recovered (${s.status})`} at ${clock(Date.parse(s.since), now)}`,
      evidence: [s.ref],
    })),
    ...shifts.slice(0, 3).map(latencyFinding),
    ...(code && code.pull_requests.length > 0
      ? [
          {
            statement: `${count(code.pull_requests.length, 'pull request')} merged in ${code.repository}: ${code.pull_requests
              .slice(0, 5)
              .map((p) => `#${p.number} ${p.title}${p.author ? ` (${p.author})` : ''}`)
              .join('; ')}`,
            evidence: code.pull_requests.slice(0, 20).map((p) => p.ref),
          },
        ]
      : []),
    ...(code && code.commits.length > 0
      ? [
          {
            statement: `${count(code.commits.length, 'commit')} in ${code.repository}, latest: ${code.commits[0]!.message}${code.commits[0]!.author ? ` (${code.commits[0]!.author})` : ''}`,
            evidence: code.commits.slice(0, 20).map((c) => c.ref),
          },
        ]
      : []),
  ];

  const changes = [
    versions.length > 0
      ? `${count(versions.length, 'deployment')} (${versions
          .slice(0, 3)
          .map((d) => `${service ? '' : `${d.service} `}${d.version}`)
          .join(', ')}${versions.length > 3 ? ', …' : ''})`
      : '',
    incidents.length > 0 ? `${count(incidents.length, 'incident')} opened` : '',
    fired.length > 0 ? `${count(fired.length, 'alert')} fired` : '',
    statuses.length > 0 ? `${count(statuses.length, 'third-party status change')}` : '',
    ...shifts
      .slice(0, 2)
      .map((l) => `p95 of ${l.metric}${service ? '' : ` on ${l.service}`} ${l.change_percent > 0 ? 'up' : 'down'} ${Math.abs(Math.round(l.change_percent))}%`),
    code && code.pull_requests.length + code.commits.length > 0
      ? `${count(code.pull_requests.length, 'pull request')} merged and ${count(code.commits.length, 'commit')}`
      : '',
  ].filter(Boolean);
  const where = service ? ` in ${service}` : '';
  const since = `Since ${clock(range.from, now)}`;
  const summary =
    changes.length > 0
      ? `${since}${where}: ${changes.join('; ')}.`
      : `No changes found${where} since ${clock(range.from, now)}: no deployments, incidents, alerts, third-party status changes or latency shifts.`;
  const next = [
    incidents.length > 0 && versions.length > 0
      ? `Check whether ${incidents[0]!.service}'s incident began after a deployment: ask "what is wrong with ${incidents[0]!.service}".`
      : '',
    versions.length > 0 && incidents.length === 0
      ? 'No incident followed these deployments so far; watch p95 and the error rate of the services deployed.'
      : '',
    changes.length === 0 ? 'Ask about a longer range to see older changes.' : '',
  ];
  return { summary, findings, next_steps: next.filter(Boolean), confidence: changes.length > 0 ? 80 : 60 };
}

// ---- Open incidents.

async function openIncidents(service: string | null, reads: Reads, now: number): Promise<Draft> {
  const incidents = await reads.list<IncidentItem>('incidents', { status: 'open', service: service ?? undefined, limit: 20 }, 'incidents');
  const where = service ? ` on ${service}` : '';
  if (incidents === null) return { summary: `Could not list the open incidents${where}.`, findings: [], next_steps: ['Try again in a moment.'], confidence: 5 };
  const sorted = [...incidents].sort((a, b) => scaleRank(b.severity) - scaleRank(a.severity) || Date.parse(b.opened_at) - Date.parse(a.opened_at));
  if (sorted.length === 0) return { summary: `No open incidents${where}.`, findings: [], next_steps: [], confidence: 90 };
  const top = sorted[0]!;
  return {
    summary: `${count(sorted.length, 'open incident')}${where}: ${sorted
      .slice(0, 10)
      .map(
        (i) =>
          `${i.service} (${i.severity}, since ${clock(Date.parse(i.opened_at), now)}${i.suspect_deployment ? `, suspect ${i.suspect_deployment.version}` : ''})`,
      )
      .join(', ')}${sorted.length > 10 ? ', …' : ''}.`,
    findings: sorted.slice(0, 20).map((i) => incidentFinding(i, now)),
    next_steps: [`Start with the most severe: ask "what is wrong with ${top.service}" for its anomalies, deployments and error logs.`],
    confidence: 90,
  };
}

// ---- Shared.

/** Said, checked and cut to the answer's limits; a failed read lowers the confidence and is named. */
function finish(draft: Draft, reads: Reads): AssistantAnswer {
  const failed = reads.failed;
  const summary =
    failed.length > 0
      ? `${draft.summary} Some data could not be read (${failed.map((f) => f.split(':')[0]).join(', ')}), so this may be incomplete.`
      : draft.summary;
  return assistantAnswer.parse({
    summary: clip(summary, 4000),
    findings: draft.findings
      .slice(0, 20)
      .map((f) => ({ statement: clip(f.statement, 2000), evidence: [...new Set(f.evidence)].slice(0, 20).map((e) => clip(e, 300)) })),
    next_steps: [...new Set([...draft.next_steps, ...failed.slice(0, 2).map((f) => `Retry: ${f}`)])].slice(0, 10).map((s) => clip(s, 1000)),
    confidence: Math.max(5, Math.min(100, draft.confidence - 15 * failed.length)),
  });
}

/** The range a question asked for (its `since` as time-range.ts reads it), else the last `defaultMs`; at most 7 days. */
function rangeOf(since: string | null, defaultMs: number, now: number): TimeRange {
  try {
    return resolveRange({ since: since ?? undefined }, now, { defaultMs, maxMs: 7 * DAY });
  } catch {
    return { from: since === null ? now - defaultMs : now - 7 * DAY, to: now };
  }
}

function latestPerVersion(deploys: DeploymentItem[]): DeploymentItem[] {
  const seen = new Set<string>();
  return deploys.filter((d) => !seen.has(d.ref) && seen.add(d.ref));
}

const rank = (a: AnomalyItem) => scaleRank(a.severity) * 1000 + Math.abs(a.z);
const worst = (list: AnomalyItem[]) => list.reduce<AnomalyItem | undefined>((w, a) => (w === undefined || rank(a) > rank(w) ? a : w), undefined);
const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
/** A rate for people: two significant digits. */
const rate = (n: number) => String(Number(n.toPrecision(2)));
const clip = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** A time for people: the clock when it is today (UTC), else the date too. */
function clock(ms: number, now: number): string {
  const iso = isoTime(ms);
  const time = `${iso.slice(11, 16)} UTC`;
  return iso.slice(0, 10) === isoTime(now).slice(0, 10) ? time : `${iso.slice(0, 10)} ${time}`;
}
