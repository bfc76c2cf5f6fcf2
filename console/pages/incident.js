import { api } from '../api.js';
import { COLORS, legend, timeChart } from '../charts.js';
import { badge, errorText, h, replace } from '../dom.js';
import { ago, clock, dateTime } from '../format.js';

/**
 * One incident: its timeline (the service's latency around it, its signals
 * in lanes, deployments as dashed lines), the analysis with helpful / not
 * helpful feedback, remediation proposals to approve or reject, and the
 * third-party status of what the service depends on. The page follows the
 * live connection: a new version of the incident or a new analysis of it
 * redraws it.
 */
const MIN_PAD_MS = 10 * 60_000;
const MAX_SPAN_MS = 7 * 86_400_000; // what GET /v1/services/{service}/series allows
const APPROVER = 'autopilot.approver';
const KINDS = [
  ['anomaly', 'Anomaly'],
  ['error_spike', 'Error spike'],
  ['alert', 'Alert'],
  ['dependency', 'Third-party status'],
];

export function incidentPage(main, [rawId], ctx) {
  const id = decodeURIComponent(rawId);
  let chart = null;
  let loading = null;

  async function load() {
    try {
      const { signal } = ctx;
      const incident = await api(`/v1/incidents/${encodeURIComponent(id)}`, { signal });
      const { from, to } = timelineSpan(incident);
      const [series, external] = await Promise.all([
        api(`/v1/services/${encodeURIComponent(incident.service)}/series?from=${from}&to=${to}`, { signal }),
        api('/v1/external-status', { signal }).catch((err) => (signal.aborted ? Promise.reject(err) : { providers: [] })),
      ]);
      show(incident, series, external);
    } catch (err) {
      if (ctx.signal.aborted) return;
      chart?.destroy();
      chart = null;
      replace(main, h('h1', {}, 'Incident'), errorText(err.status === 404 ? new Error(`No incident ${id} for this tenant.`) : err));
    }
    main.dataset.ready = 'incident';
  }

  function show(incident, series, external) {
    chart?.destroy();
    const d = incident.suspect_deployment;
    const header = h(
      'section',
      { class: 'panel', 'aria-labelledby': 'incident-title' },
      h('h1', { id: 'incident-title' }, `Incident on ${incident.service} `, badge(incident.status), ' ', badge(incident.severity)),
      h(
        'dl',
        { class: 'facts' },
        fact('Opened', `${dateTime(incident.opened_at)} (${ago(incident.opened_at)})`),
        fact('Last change', dateTime(incident.updated_at)),
        incident.resolved_at ? fact('Resolved', dateTime(incident.resolved_at)) : null,
        fact(
          'Suspect deployment',
          d ? `${d.version ?? d.id}${d.minutes_before === null ? '' : `, ${Math.round(d.minutes_before * 10) / 10} min before it opened`}` : 'none',
        ),
        fact('Signals', String(incident.signal_count)),
        fact('Incident', h('code', {}, incident.incident_id)),
      ),
    );

    const chartEl = h('div', { class: 'chart', id: 'timeline' });
    const timeline = h(
      'section',
      { class: 'panel', 'aria-labelledby': 'timeline-title' },
      h('h2', { id: 'timeline-title' }, 'Timeline'),
      h('p', { class: 'chart-title' }, series.latency_metric ? `${series.latency_metric}, p50 / p95 / p99` : 'No latency metric for this service'),
      chartEl,
      legend([
        ...['p50', 'p95', 'p99'].map((p) => ({ label: p, color: COLORS[p] })),
        ...KINDS.map(([kind, label]) => ({ label, color: COLORS[kind] })),
        { label: 'Deployment', color: COLORS.deployment },
      ]),
      signalTable(incident.signals),
    );

    replace(
      main,
      h('p', {}, h('a', { href: '#/incidents' }, '← All incidents')),
      header,
      h(
        'div',
        { class: 'columns' },
        h('div', {}, timeline),
        h('div', {}, analysisPanel(incident, load), proposalsPanel(incident, load), externalPanel(incident, external)),
      ),
    );
    chart = timeChart(chartEl, {
      t: series.series.t,
      step: series.step,
      from: series.from,
      to: series.to,
      unit: 'ms',
      height: 260,
      legend: true,
      label: `Timeline of the incident on ${incident.service}: latency, ${incident.signals.length} signals, ${series.deployments.length} deployments`,
      lines: ['p50', 'p95', 'p99'].map((p) => ({ label: p, values: series.series[p], color: COLORS[p] })),
      markers: deploymentMarkers(incident, series),
      signals: incident.signals,
    });
  }

  /** A change to this incident, its analysis or one of its proposals (or a reconnection) redraws the page, once for a burst. */
  const reload = (e) => {
    if (e.type !== 'resync' && e.detail.incident_id !== id) return;
    clearTimeout(loading);
    loading = setTimeout(load, 300);
  };
  const LIVE = ['incident', 'analysis', 'proposal', 'resync'];
  for (const event of LIVE) ctx.live.addEventListener(event, reload);

  delete main.dataset.ready;
  replace(main, h('p', { class: 'muted' }, 'Loading the incident…'));
  load();
  return () => {
    clearTimeout(loading);
    for (const event of LIVE) ctx.live.removeEventListener(event, reload);
    chart?.destroy();
  };
}

/**
 * The incident with room around it: as much again before it opened as it
 * lasted (10 minutes at least), so the baseline it broke from shows, and
 * half that after its last change, up to now.
 */
function timelineSpan(incident) {
  const last = Math.max(incident.resolved_at ?? incident.updated_at, ...incident.signals.map((s) => s.at));
  const pad = Math.max(MIN_PAD_MS, last - incident.opened_at);
  const to = Math.min(last + pad / 2, Math.max(Date.now(), last + 60_000));
  return { from: Math.max(incident.opened_at - pad, to - MAX_SPAN_MS), to };
}

const fact = (term, value) => [h('dt', {}, term), h('dd', {}, value)];

/**
 * The service's deployments in the window, and the incident's own deployment
 * signals not yet among them (the table can lag the topic); the suspect's
 * signal has the suspect's id, so its version is known.
 */
function deploymentMarkers(incident, series) {
  const byTime = new Map(series.deployments.map((d) => [d.at, d.version]));
  const suspect = incident.suspect_deployment;
  for (const s of incident.signals) {
    if (s.kind === 'deployment' && !byTime.has(s.at)) byTime.set(s.at, s.id === suspect?.id ? suspect.version : s.summary);
  }
  return [...byTime].map(([at, version]) => ({ at, label: `deploy ${version}` }));
}

function signalTable(signals) {
  if (!signals.length) return h('p', { class: 'muted' }, 'No signals.');
  const sorted = [...signals].sort((a, b) => a.at - b.at);
  return h(
    'table',
    { 'aria-label': 'Signals' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Time', 'Kind', 'Severity', 'What'].map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      {},
      sorted.map((s) =>
        h(
          'tr',
          {},
          h('td', { title: dateTime(s.at) }, clock(s.at)),
          h('td', {}, s.kind.replace('_', ' ')),
          h('td', {}, s.severity ?? ''),
          h('td', {}, s.summary),
        ),
      ),
    ),
  );
}

function analysisPanel(incident, reload) {
  const a = incident.analysis;
  const panel = h('section', { class: 'panel', 'aria-labelledby': 'analysis-title' }, h('h2', { id: 'analysis-title' }, 'Analysis'));
  if (!a) {
    panel.append(h('p', { class: 'muted' }, 'No analysis yet. It appears here when the analyst has one.'));
    return panel;
  }
  const source = a.source === 'llm' ? `LLM (${a.model ?? 'model'})` : `Rules${a.fallback_reason ? ` (fallback: ${a.fallback_reason})` : ''}`;
  panel.append(
    h('p', {}, h('strong', {}, a.root_cause)),
    h(
      'dl',
      { class: 'facts' },
      fact('Confidence', `${Math.round(a.root_cause_confidence)} %`), // 0–100, as the analyst states it (schemas/analysis.avsc)
      fact('Source', source),
      fact('Severity', a.severity),
      fact('Customer impact', a.estimated_customer_impact),
      fact('Analysed', dateTime(a.created_at)),
    ),
    a.root_cause_reasoning ? h('p', {}, a.root_cause_reasoning) : null,
    h('h3', {}, 'Recommended actions'),
    a.recommended_actions.length
      ? h(
          'ol',
          {},
          [...a.recommended_actions]
            .sort((x, y) => x.priority - y.priority)
            .map((r) => h('li', {}, h('strong', {}, r.action), ` (risk ${r.risk})`, r.reasoning ? h('div', { class: 'muted' }, r.reasoning) : null)),
        )
      : h('p', { class: 'muted' }, 'None.'),
    feedbackForm(incident, reload),
  );
  return panel;
}

/** Helpful / not helpful, with an optional comment: the outcome prompt experiments compare. */
function feedbackForm(incident, reload) {
  const comment = h('textarea', { id: 'feedback-comment', rows: 2, maxlength: 4000 });
  const said = h('div', { 'aria-live': 'polite' });
  const send = async (helpful, button) => {
    for (const b of buttons) b.disabled = true;
    try {
      const body = comment.value.trim() ? { helpful, comment: comment.value.trim() } : { helpful };
      await api(`/v1/incidents/${encodeURIComponent(incident.incident_id)}/feedback`, { method: 'POST', body });
      replace(said, h('p', { class: 'notice' }, `Thank you: recorded as ${helpful ? 'helpful' : 'not helpful'}.`));
      button.setAttribute('aria-pressed', 'true');
      setTimeout(reload, 1500);
    } catch (err) {
      replace(said, errorText(err));
      for (const b of buttons) b.disabled = false;
    }
  };
  const buttons = [
    h('button', { type: 'button', 'aria-pressed': 'false', onclick: (e) => send(true, e.currentTarget) }, 'Helpful'),
    h('button', { type: 'button', 'aria-pressed': 'false', onclick: (e) => send(false, e.currentTarget) }, 'Not helpful'),
  ];
  const f = incident.feedback;
  return h(
    'div',
    { class: 'feedback', role: 'group', 'aria-labelledby': 'feedback-title' },
    h('h3', { id: 'feedback-title' }, 'Was this analysis helpful?'),
    h('label', { for: 'feedback-comment' }, 'Comment (optional)'),
    comment,
    h('div', { class: 'toolbar' }, buttons, h('span', { class: 'muted' }, `${f.helpful} of ${f.count} said helpful so far`)),
    said,
  );
}

function proposalsPanel(incident, reload) {
  const panel = h('section', { class: 'panel', 'aria-labelledby': 'proposals-title' }, h('h2', { id: 'proposals-title' }, 'Remediation'));
  if (!incident.proposals?.length) {
    panel.append(h('p', { class: 'muted' }, 'No action proposed. Remediation policies propose one when an incident matches.'));
    return panel;
  }
  // Who decides: required when the tenant names its approvers (remediation settings), kept for this tab.
  const approver = h('input', { id: 'approver', autocomplete: 'username', value: sessionStorage.getItem(APPROVER) ?? '' });
  approver.addEventListener('change', () => sessionStorage.setItem(APPROVER, approver.value.trim()));
  if (incident.proposals.some((p) => p.status === 'proposed')) panel.append(h('p', {}, h('label', { for: 'approver' }, 'Deciding as', approver)));
  for (const p of incident.proposals) {
    const said = h('div', { 'aria-live': 'polite' });
    const decide = async (verb) => {
      try {
        const body = approver.value.trim() ? { approver: approver.value.trim() } : {};
        await api(`/v1/proposals/${encodeURIComponent(p.proposal_id)}/${verb}`, { method: 'POST', body });
        reload();
      } catch (err) {
        replace(said, errorText(err));
      }
    };
    panel.append(
      h(
        'div',
        { class: 'proposal', dataset: { proposal: p.proposal_id } },
        h('p', {}, h('strong', {}, p.action_name), ` (${p.mode}) `, badge(p.status)),
        p.status === 'proposed'
          ? h(
              'div',
              { class: 'toolbar' },
              h('button', { type: 'button', class: 'primary', onclick: () => decide('approve') }, `Approve ${p.action_name}`),
              h('button', { type: 'button', class: 'danger', onclick: () => decide('reject') }, `Reject ${p.action_name}`),
            )
          : null,
        said,
      ),
    );
  }
  return panel;
}

/** The third-party status pages that name this service as depending on them. */
function externalPanel(incident, external) {
  const panel = h('section', { class: 'panel', 'aria-labelledby': 'external-title' }, h('h2', { id: 'external-title' }, 'Third-party status'));
  const relevant = external.providers
    .map((p) => ({ ...p, subjects: p.subjects.filter((s) => s.services?.includes(incident.service)) }))
    .filter((p) => p.subjects.length);
  if (!relevant.length) {
    panel.append(h('p', { class: 'muted' }, 'No status page watched for this service (a status_page job names the services that depend on a provider).'));
    return panel;
  }
  for (const p of relevant) {
    panel.append(
      h('h3', {}, p.provider, ' ', badge(p.degraded ? 'degraded' : 'operational')),
      h(
        'ul',
        {},
        p.subjects.map((s) =>
          h('li', {}, `${s.subject_name}: ${s.status}`, s.degraded ? ` (${s.impact})` : '', h('span', { class: 'muted' }, ` since ${ago(s.since)}`)),
        ),
      ),
    );
  }
  return panel;
}
