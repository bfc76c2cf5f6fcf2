import { isSeverity, moreSevere } from '../../lib/severity.ts';
import { isoTimeShort } from '../../lib/time.ts';
import type { AnalysisAnswer } from './answer.ts';
import type { ContextAnomaly, IncidentContext } from './context.ts';
import { dependencyLabel, DEPLOYMENT_LOOKBACK_MS } from './context.ts';
import { redact } from '../../lib/redact.ts';

/**
 * The analysis without a model: what a careful on-call engineer would say
 * from the same context in a minute, when Ollama is down, slow or talking
 * nonsense. Deterministic (same context, same answer) and always a valid
 * answer. Checked in this order:
 *
 * 1. A deployment shortly before the trouble: it is the suspect, roll it back.
 *    Confidence grows with the evidence: a short gap, several anomalous series,
 *    high severity, errors as well, alerts firing.
 *    A third-party dependency reported degraded: the provider is the suspect,
 *    follow its status page and route around it. Confidence grows with its
 *    impact, with timing, and with error logs that name the provider.
 *    When both are there they compete: each loses confidence, the stronger
 *    one is the root cause and the other is named as the alternative.
 * 2. Errors without a deployment: the component the error logs name most.
 * 3. Only alerts: the alert is the best description there is.
 * 4. Otherwise: what was observed, with a low confidence that says so.
 *
 * Firing alerts are mentioned whatever the branch. Log text is quoted only
 * after redaction: the answer goes to chat channels.
 */
export function analyzeByRules(ctx: IncidentContext): AnalysisAnswer {
  const facts = gather(ctx);
  const answer =
    facts.dependencies.length > 0
      ? facts.deployment
        ? competing(deploymentCause(facts), dependencyCause(facts))
        : dependencyCause(facts)
      : facts.deployment
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
  // The service's own trouble: a provider's outage is measured against it, not part of it (unless it is all there is).
  const own = problems.filter((s) => s.kind !== 'dependency');
  const firstProblemAt = Math.min(...(own.length > 0 ? own : problems).map((s) => s.at), ...ctx.anomalies.map((a) => a.at), inc.updated_at);
  const series = seriesOf(ctx.anomalies);
  const dependencies = dependenciesOf(ctx, firstProblemAt);
  const providers = providersOf(dependencies);
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
    dependencies,
    // Error logs that name a provider are the strongest link between its outage and this service's trouble.
    logsNamingProvider: ctx.errorLogs.filter((l) => providers.some((p) => l.message.toLowerCase().includes(p.toLowerCase()))).length,
  };
}

interface DependencyFact {
  /** How the text names it: "Stripe (API)"; from a signal only, its summary. */
  label: string;
  /** null when only the correlator's signal is known (its summary names the provider). */
  provider: string | null;
  status: string;
  impact: string;
  at: number;
  url: string;
  /** Recovered since (its latest change is back to normal, after the trouble began). */
  recovered: boolean;
}

/** A signal's severity back in the provider's words, for a dependency known only from its signal. */
const IMPACT_OF_SEVERITY = new Map([
  ['critical', 'critical'],
  ['high', 'major'],
]);

const providersOf = (deps: DependencyFact[]) => [...new Set(deps.map((d) => d.provider).filter((p): p is string => p !== null))];

/**
 * The dependencies that could explain the incident: those degraded as of its end, and those that recovered
 * only after the trouble began (so they were degraded during it). When the sink has not yet written the
 * status rows, the incident's dependency signals stand in.
 */
function dependenciesOf(ctx: IncidentContext, firstProblemAt: number): DependencyFact[] {
  if (ctx.dependencies.length > 0) {
    return ctx.dependencies
      .filter((d) => d.degraded || d.at > firstProblemAt)
      .map((d) => ({ label: dependencyLabel(d), provider: d.provider, status: d.status, impact: d.impact, at: d.at, url: d.url, recovered: !d.degraded }));
  }
  return ctx.incident.signals
    .filter((s) => s.kind === 'dependency')
    .map((s) => ({
      label: s.summary,
      provider: null,
      status: '',
      impact: IMPACT_OF_SEVERITY.get(s.severity ?? '') ?? 'minor',
      at: s.at,
      url: '',
      recovered: false,
    }));
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

/** How much a provider's impact says; 'none' and words not known say little. */
const IMPACT_POINTS = new Map([
  ['critical', 25],
  ['major', 20],
  ['minor', 8],
  ['maintenance', 5],
]);
const impactPoints = (impact: string) => IMPACT_POINTS.get(impact) ?? 3;
/** A status page is often updated minutes after the trouble began: a degradation posted this soon after still counts as early. */
const STATUS_PAGE_DELAY_MS = 30 * 60_000;

function dependencyCause(f: Facts): Cause {
  // The worst impact first, the earliest on a tie.
  const deps = [...f.dependencies].sort((a, b) => impactPoints(b.impact) - impactPoints(a.impact) || a.at - b.at);
  const main = deps[0]!;
  const providers = providersOf(deps);
  const naming = f.logsNamingProvider;
  let confidence = 35 + impactPoints(main.impact);
  confidence += main.at <= f.firstProblemAt ? 10 : main.at <= f.firstProblemAt + STATUS_PAGE_DELAY_MS ? 5 : 0;
  if (naming > 0) confidence += 15;
  if (f.errors.any) confidence += 5;

  const who = providers.length > 0 ? providers.join(', ') : 'the provider';
  const state = (d: DependencyFact) =>
    d.provider === null
      ? d.label
      : `${d.label} ${d.status}${d.recovered ? ` (recovered ${isoTimeShort(d.at)})` : ` since ${isoTimeShort(d.at)}`}, impact ${d.impact}`;
  const observed = [
    `status pages: ${deps.slice(0, 5).map(state).join('; ')}`,
    `first problem of ${f.service} at ${isoTimeShort(f.firstProblemAt)}`,
    naming > 0 ? `${naming} error log line${naming > 1 ? 's' : ''} name${naming > 1 ? '' : 's'} ${who}` : '',
    describeSeries(f),
    describeErrors(f),
    describeAlerts(f),
    f.deployment ? '' : `no deployment in the ${DEPLOYMENT_LOOKBACK_MS / 60_000} min before the first problem`,
  ].filter(Boolean);
  const planned = main.impact === 'maintenance';
  const description =
    main.provider === null
      ? `A third-party dependency of ${f.service} is degraded (${main.label}), the likely cause.`
      : `Third-party dependency ${main.label} ${
          planned
            ? `is under planned maintenance (${main.status})`
            : main.recovered
              ? `was degraded until ${isoTimeShort(main.at)} (now ${main.status})`
              : `is degraded (${main.status}, impact ${main.impact})`
        }, and ${f.service} depends on it: the likely cause.`;
  return {
    root_cause: {
      description,
      confidence: clamp(confidence, 80),
      reasoning: `Rule-based analysis (no model). Observed: ${observed.join('; ')}. Hypothesis: ${f.service} fails where it calls ${who}; the evidence is the provider's own status page and the timing, not a traced failing call.`,
    },
    recommended_actions: [
      {
        action: `Check ${who}'s status page${main.url ? ` (${main.url})` : ''} and follow the incident there; confirm that the failing requests of ${f.service} are the ones that call ${main.provider === null ? 'it' : main.label}`,
        reasoning: `The provider reports ${main.provider === null ? 'a degradation' : `${main.label} ${main.status}`}; if ${f.service}'s errors are elsewhere, the outage is a coincidence.`,
        risk: 'low',
        priority: 1,
      },
      {
        action: `While ${who} is degraded, fail over to a secondary provider or region if ${f.service} has one, or lean on retries with backoff, timeouts and a circuit breaker around calls to ${who}`,
        reasoning: `A provider's outage cannot be fixed from ${f.service}'s side; limiting how far it spreads can.`,
        risk: 'medium',
        priority: 2,
      },
    ],
  };
}

/** A deployment and a degraded dependency both explain the trouble: each is less certain, the stronger leads, the other is the alternative. */
const COMPETING_PENALTY = 15;

function competing(deployment: Cause, dependency: Cause): Cause {
  const lower = (c: Cause) => Math.max(0, c.root_cause.confidence - COMPETING_PENALTY);
  // On a tie the deployment leads: it is the hypothesis in the service owner's hands, and a rollback tests it fastest.
  const [lead, other] = lower(dependency) > lower(deployment) ? [dependency, deployment] : [deployment, dependency];
  const first = other.recommended_actions[0]!;
  return {
    root_cause: {
      ...lead.root_cause,
      confidence: lower(lead),
      reasoning: `${lead.root_cause.reasoning} Competing hypothesis (confidence ${lower(other)}): ${other.root_cause.description}`,
    },
    recommended_actions: [...lead.recommended_actions, { ...first, priority: lead.recommended_actions.length + 1 }],
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
  const providers = providersOf(f.dependencies);
  if (f.dependencies.length > 0)
    parts.push(`requests of ${f.service} that need ${providers.length > 0 ? providers.join(', ') : 'the degraded third party'} are probably failing or slow`);
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
