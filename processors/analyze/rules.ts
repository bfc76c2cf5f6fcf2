import { isSeverity, moreSevere } from '../../lib/severity.ts';
import { isoTimeShort } from '../../lib/time.ts';
import type { AnalysisAnswer } from './answer.ts';
import type { ContextAnomaly, IncidentContext } from './context.ts';
import { DEPLOYMENT_LOOKBACK_MS } from './context.ts';
import { redact } from './redact.ts';

/**
 * The analysis without a model: what a careful on-call engineer would say
 * from the same context in a minute, when Ollama is down, slow or talking
 * nonsense. Deterministic (same context, same answer) and always a valid
 * answer. Checked in this order:
 *
 * 1. A deployment shortly before the trouble: it is the suspect, roll it back.
 *    Confidence grows with the evidence: a short gap, several anomalous series,
 *    high severity, errors as well, alerts firing.
 * 2. Errors without a deployment: the component the error logs name most.
 * 3. Only alerts: the alert is the best description there is.
 * 4. Otherwise: what was observed, with a low confidence that says so.
 *
 * Firing alerts are mentioned whatever the branch. Log text is quoted only
 * after redaction: the answer goes to chat channels.
 */
export function analyzeByRules(ctx: IncidentContext): AnalysisAnswer {
  const facts = gather(ctx);
  const answer = facts.deployment
    ? deploymentCause(facts)
    : facts.errors.any
      ? errorCause(facts)
      : facts.alerts.length > 0
        ? alertCause(facts)
        : observedOnly(facts);
  return {
    ...answer,
    recommended_actions: [...answer.recommended_actions, ...alertActions(facts, answer.recommended_actions.length)],
    severity: severityOf(ctx.incident.severity),
    estimated_customer_impact: impactOf(facts),
  };
}

type Cause = Pick<AnalysisAnswer, 'root_cause' | 'recommended_actions'>;
type Facts = ReturnType<typeof gather>;

function gather(ctx: IncidentContext) {
  const inc = ctx.incident;
  const problems = inc.signals.filter((s) => s.kind !== 'deployment');
  const firstProblemAt = Math.min(...problems.map((s) => s.at), ...ctx.anomalies.map((a) => a.at), inc.updated_at);
  const series = seriesOf(ctx.anomalies);
  const errorSpikes = ctx.anomalies.filter((a) => a.kind === 'error_rate').length + inc.signals.filter((s) => s.kind === 'error_spike').length;
  return {
    service: inc.service,
    incidentSeverity: inc.severity,
    firstProblemAt,
    deployment: suspectOf(ctx, firstProblemAt),
    series,
    worstSeverity: worst([...ctx.anomalies.map((a) => a.severity), ...problems.map((s) => s.severity ?? 'medium')]),
    errors: {
      any: errorSpikes > 0 || ctx.errorLogs.length > 0,
      spikes: errorSpikes,
      logs: ctx.errorLogs.length,
      top: topMessage(ctx),
      component: topComponent(ctx),
    },
    alerts: ctx.alerts,
  };
}

/** The correlator's suspect, or else the latest deployment in the look-back before the first problem. */
function suspectOf(ctx: IncidentContext, firstProblemAt: number) {
  const named = ctx.incident.suspect_deployment;
  const before = ctx.deployments.filter((d) => d.at <= firstProblemAt && d.at >= firstProblemAt - DEPLOYMENT_LOOKBACK_MS);
  const found = named ? ctx.deployments.find((d) => d.at === named.at && d.version === named.version) : before.at(-1);
  if (!named && !found) return null;
  const version = named?.version ?? found!.version;
  const at = named?.at ?? found!.at;
  // A deployment that failed or was cancelled put no version in place: it is neither the version to go back to nor a rollback done.
  const wentOut = (d: { status: string }) => d.status !== 'failed' && d.status !== 'cancelled';
  const previous = ctx.deployments.filter((d) => d.at < at && d.version !== version && wentOut(d)).at(-1)?.version ?? null;
  const rollback =
    ctx.deployments.find((d) => d.at > at && wentOut(d) && (/roll.?back/i.test(d.status) || (previous !== null && d.version === previous))) ?? null;
  return {
    version,
    at,
    gapMinutes: named?.minutes_before ?? Math.round(((firstProblemAt - at) / 60_000) * 10) / 10,
    status: found?.status ?? null,
    commit: found?.metadata.commit ?? null,
    previous,
    rollback,
  };
}

function deploymentCause(f: Facts): Cause {
  const d = f.deployment!;
  let confidence = 40;
  confidence += d.gapMinutes <= 5 ? 20 : d.gapMinutes <= 15 ? 12 : 5;
  confidence += f.series.length >= 3 ? 10 : f.series.length === 2 ? 6 : f.series.length === 1 ? 3 : 0;
  confidence += f.worstSeverity === 'critical' ? 8 : f.worstSeverity === 'high' ? 4 : 0;
  if (f.errors.any) confidence += 7;
  if (f.alerts.length > 0) confidence += 3;
  if (d.status && /fail|error/i.test(d.status)) confidence += 5;

  const observed = [
    `deployment ${d.version}${d.status ? ` (${d.status})` : ''}${d.commit ? ` commit ${d.commit}` : ''} at ${isoTimeShort(d.at)}, ${d.gapMinutes} min before the first anomaly at ${isoTimeShort(f.firstProblemAt)}`,
    describeSeries(f),
    describeErrors(f),
    describeAlerts(f),
  ].filter(Boolean);
  const target = d.previous ?? 'the previous version';
  const actions: AnalysisAnswer['recommended_actions'] = d.rollback
    ? [
        {
          action: `Confirm that the rollback to ${d.rollback.version} at ${isoTimeShort(d.rollback.at)} brought ${f.service} back to its baseline`,
          reasoning: `A deployment after ${d.version} is already in the context (${d.rollback.version}, ${d.rollback.status}); if the anomalies persist after it, ${d.version} is not the cause.`,
          risk: 'low',
          priority: 1,
        },
      ]
    : [
        {
          action: `Roll back ${f.service} from ${d.version} to ${target}`,
          reasoning: `The trouble started ${d.gapMinutes} min after ${d.version} went out; a rollback is the fastest test of that hypothesis and the fastest mitigation.`,
          risk: d.previous ? 'low' : 'medium',
          priority: 1,
        },
      ];
  actions.push({
    action: `Review the changes in ${d.version}${d.commit ? ` (commit ${d.commit})` : ''}${f.errors.component ? `, starting with ${f.errors.component.name}` : ''}`,
    reasoning: `To find what in the change affects ${
      f.series
        .map((s) => s.metric)
        .slice(0, 3)
        .join(', ') || 'the service'
    } before rolling forward again.`,
    risk: 'low',
    priority: 2,
  });
  return {
    root_cause: {
      description: `The deployment of ${d.version} to ${f.service} at ${isoTimeShort(d.at)}, ${d.gapMinutes} min before the first anomaly, is the likely cause.`,
      confidence: clamp(confidence, 85),
      reasoning: `Rule-based analysis (no model). Observed: ${observed.join('; ')}. Hypothesis: a change in ${d.version} caused the anomalies; the evidence is the timing and the anomalies that followed, not a confirmed mechanism.`,
    },
    recommended_actions: actions,
  };
}

function errorCause(f: Facts): Cause {
  const { component, top, logs, spikes } = f.errors;
  const observed = [
    describeErrors(f),
    describeSeries(f),
    describeAlerts(f),
    `no deployment in the ${DEPLOYMENT_LOOKBACK_MS / 60_000} min before the first anomaly`,
  ].filter(Boolean);
  if (component) {
    const share = component.count / Math.max(1, logs);
    const confidence = 30 + Math.round(20 * share) + (spikes > 0 ? 10 : 0) + (logs >= 10 ? 5 : 0) + (f.alerts.length > 0 ? 3 : 0);
    return {
      root_cause: {
        description: `Failures in ${component.name} of ${f.service}: it is named in ${component.count} of ${logs} error log lines.`,
        confidence: clamp(confidence, 70),
        reasoning: `Rule-based analysis (no model). Observed: ${observed.join('; ')}. Hypothesis: ${component.name} (or something it depends on) is failing; the evidence is how often the error logs name it.`,
      },
      recommended_actions: [
        {
          action: `Investigate ${component.name}${top ? `, starting with its most frequent error: "${top.message}" (${top.count}×)` : ''}`,
          reasoning: `${component.name} appears in most of the error logs of ${f.service} just before and during the incident.`,
          risk: 'low',
          priority: 1,
        },
        {
          action: `Check the health of what ${component.name} depends on and any recent configuration change to it`,
          reasoning: 'No deployment of the service explains the errors, so a dependency or a configuration change is the next candidate.',
          risk: 'low',
          priority: 2,
        },
      ],
    };
  }
  return {
    root_cause: {
      description: top
        ? `Errors in ${f.service}, most often: "${top.message}".`
        : `The error rate of ${f.service} rose without a deployment or error logs to explain it.`,
      confidence: clamp(20 + (spikes > 0 ? 10 : 0) + (top && top.count >= 5 ? 5 : 0), 50),
      reasoning: `Rule-based analysis (no model). Observed: ${observed.join('; ')}. No component could be named from the logs, so this describes the symptom rather than the cause.`,
    },
    recommended_actions: [
      {
        action: top
          ? `Find where "${top.message}" is raised in ${f.service} and why`
          : `Look at the failing requests of ${f.service} (status codes, endpoints, error logs)`,
        reasoning: 'It is the most common error around the incident.',
        risk: 'low',
        priority: 1,
      },
    ],
  };
}

function alertCause(f: Facts): Cause {
  const [first, ...others] = f.alerts;
  return {
    root_cause: {
      description: `Alert ${first!.name} is firing for ${f.service}${first!.summary ? `: ${redact(first!.summary)}` : ''}.`,
      confidence: clamp(25 + Math.min(others.length, 2) * 5, 40),
      reasoning: `Rule-based analysis (no model). Observed: ${[describeAlerts(f), describeSeries(f), 'no deployment and no error logs around the incident'].filter(Boolean).join('; ')}. The alert describes the symptom; its cause is not in the context.`,
    },
    recommended_actions: [],
  };
}

function observedOnly(f: Facts): Cause {
  const top = f.series.at(-1);
  return {
    root_cause: {
      description: top
        ? `Unexplained anomalies on ${f.service}: ${f.series.length} series, the strongest ${top.metric} (${num(top.value)} vs baseline ${num(top.baseline)}).`
        : `Unexplained incident on ${f.service}: no anomaly, deployment, error log or alert in the context.`,
      confidence: top ? 15 : 5,
      reasoning: `Rule-based analysis (no model). Observed: ${[describeSeries(f), 'no deployment in the look-back, no error logs, no firing alerts'].filter(Boolean).join('; ')}. Nothing in the context points to a cause.`,
    },
    recommended_actions: [
      {
        action: top
          ? `Investigate ${top.metric} on ${f.service} around ${isoTimeShort(f.firstProblemAt)}`
          : `Check ${f.service}'s dashboards around ${isoTimeShort(f.firstProblemAt)}`,
        reasoning: 'It deviates most from its baseline.',
        risk: 'low',
        priority: 1,
      },
      {
        action: `Check the dependencies and the traffic of ${f.service} at that time`,
        reasoning: 'Without a deployment or errors of its own, load or a dependency are the usual causes.',
        risk: 'low',
        priority: 2,
      },
    ],
  };
}

function alertActions(f: Facts, after: number): AnalysisAnswer['recommended_actions'] {
  if (f.alerts.length === 0) return [];
  const names = f.alerts
    .slice(0, 3)
    .map((a) => a.name)
    .join(', ');
  return [
    {
      action: `Follow the runbook of the firing alert${f.alerts.length > 1 ? 's' : ''} ${names}`,
      reasoning: 'They fire for this service now and may name a known remedy.',
      risk: 'low',
      priority: after + 1,
    },
  ];
}

interface Series {
  metric: string;
  value: number;
  baseline: number;
  z: number;
  severity: string;
}

/** One entry per metric and labels (its strongest anomaly), weakest first. */
function seriesOf(anomalies: ContextAnomaly[]): Series[] {
  const by = new Map<string, Series>();
  for (const a of anomalies) {
    const key = `${a.metric}${JSON.stringify(a.labels)}`;
    const seen = by.get(key);
    if (!seen || Math.abs(a.z) > Math.abs(seen.z)) by.set(key, { metric: a.metric, value: a.value, baseline: a.baseline, z: a.z, severity: a.severity });
  }
  return [...by.values()].sort((a, b) => Math.abs(a.z) - Math.abs(b.z));
}

const describeSeries = (f: Facts) => {
  if (f.series.length === 0) return '';
  const strongest = [...f.series]
    .reverse()
    .slice(0, 3)
    .map((s) => `${s.metric} ${num(s.value)} vs baseline ${num(s.baseline)} (z ${num(s.z)})`);
  return `${f.series.length} anomalous series, strongest ${strongest.join(', ')}; worst severity ${f.worstSeverity}`;
};

const describeErrors = (f: Facts) => {
  const e = f.errors;
  if (!e.any) return '';
  const parts = [];
  if (e.spikes > 0) parts.push(`${e.spikes} error-rate anomal${e.spikes > 1 ? 'ies' : 'y'}`);
  if (e.logs > 0) parts.push(`${e.logs} error log line${e.logs > 1 ? 's' : ''}${e.top ? `, most frequent "${e.top.message}" (${e.top.count}×)` : ''}`);
  return parts.join(', ');
};

const describeAlerts = (f: Facts) =>
  f.alerts.length === 0
    ? ''
    : `firing alerts: ${f.alerts
        .slice(0, 5)
        .map((a) => `${a.name} [${a.severity}]${a.summary ? ` "${truncate(redact(a.summary), 120)}"` : ''}`)
        .join(', ')}`;

/** The most frequent error message, redacted (so messages differing only in an address count together). */
function topMessage(ctx: IncidentContext): { message: string; count: number } | null {
  return mostFrequent(ctx.errorLogs.map((l) => truncate(redact(l.message.replace(/\s+/g, ' ').trim()), 160)));
}

const LEVEL_WORDS = new Set(['error', 'err', 'fatal', 'warn', 'warning', 'info', 'debug', 'trace', 'critical', 'crit', 'panic']);

/** What a log line says it came from: a label, a `component=` token, or a `[component]` tag. */
export function componentOf(log: { message: string; labels: Record<string, string> }): string | null {
  for (const key of ['component', 'logger', 'module', 'subsystem']) {
    if (log.labels[key]) return log.labels[key]!;
  }
  const kv = /\b(?:component|logger|module)=["']?([\w.\-/:]+)/.exec(log.message);
  if (kv) return kv[1]!;
  for (const m of log.message.matchAll(/\[([A-Za-z][\w.\-/]{1,60})\]/g)) {
    if (!LEVEL_WORDS.has(m[1]!.toLowerCase())) return m[1]!;
  }
  return null;
}

function topComponent(ctx: IncidentContext): { name: string; count: number } | null {
  const top = mostFrequent(
    ctx.errorLogs
      .map(componentOf)
      .filter((c): c is string => c !== null)
      .map(redact),
  );
  return top && { name: top.message, count: top.count };
}

/** Ties go to the value seen first, so the answer does not depend on map order. */
function mostFrequent(values: string[]): { message: string; count: number } | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: { message: string; count: number } | null = null;
  for (const [message, count] of counts) if (!best || count > best.count) best = { message, count };
  return best;
}

function impactOf(f: Facts): string {
  const metrics = f.series.map((s) => s.metric).join(' ');
  const parts: string[] = [];
  if (f.errors.any) parts.push(`some requests to ${f.service} are probably failing`);
  if (/latency|duration|response_time|_ms\b|_seconds\b|p9\d/i.test(metrics)) parts.push(`requests to ${f.service} are probably slower than usual`);
  if (/cpu|memory|mem_|heap|queue|saturation|disk|connections/i.test(metrics))
    parts.push(`${f.service} is short of capacity, which customers may feel as slowness or errors`);
  if (parts.length === 0) return `Unknown from the signals: no error or latency signal for ${f.service} (estimate by rules, not measured).`;
  const sentence = parts.join('; ');
  return `${sentence[0]!.toUpperCase()}${sentence.slice(1)} since about ${isoTimeShort(f.firstProblemAt)} (estimate by rules, not measured).`;
}

const worst = (severities: string[]) => severities.reduce<string>((w, s) => moreSevere(w, s), 'medium');
const severityOf = (s: string): AnalysisAnswer['severity'] => (isSeverity(s) ? s : 'medium');
const clamp = (n: number, max: number) => Math.max(0, Math.min(max, Math.round(n)));
const num = (n: number) => String(Math.round(n * 100) / 100);
const truncate = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}…` : s);
