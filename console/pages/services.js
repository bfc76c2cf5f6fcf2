import { api } from '../api.js';
import { COLORS, legend, timeChart } from '../charts.js';
import { badge, errorText, h, replace } from '../dom.js';
import { ago, quantity } from '../format.js';

/**
 * Every service at a glance: latency percentiles, error rate and throughput
 * over the chosen window (GET /v1/services), open incidents, and the last
 * deployment marked on the charts. Charts are drawn when their card scrolls
 * into view, so the first screen is quick however many services there are.
 * Open incidents change live; the series refresh every minute.
 */
const WINDOWS = [
  [15, 'Last 15 minutes'],
  [60, 'Last hour'],
  [360, 'Last 6 hours'],
  [1440, 'Last 24 hours'],
];
const REFRESH_MS = 60_000;

export function servicesPage(main, _params, ctx) {
  let minutes = Number(sessionStorage.getItem('autopilot.window') ?? 60);
  let overview = null;
  const charts = new Set();
  const search = h('input', { type: 'search', id: 'service-search', placeholder: 'checkout, payments…', autocomplete: 'off' });
  const onlyOpen = h('input', { type: 'checkbox', id: 'only-open' });
  const windowSelect = h(
    'select',
    { id: 'window' },
    WINDOWS.map(([m, label]) => h('option', { value: m, selected: m === minutes }, label)),
  );
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const grid = h('div', { class: 'grid' });
  const status = h('div');

  const visible = new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        if (!e.isIntersecting) continue;
        visible.unobserve(e.target);
        drawCharts(e.target);
      }
    },
    { rootMargin: '300px' },
  );

  function drawCharts(card) {
    const s = overview.services.find((x) => x.service === card.dataset.service);
    if (!s) return;
    const base = { t: s.series.t, step: overview.step, from: overview.from, to: overview.to, markers: deploymentMarkers(s, overview) };
    const specs = [
      {
        ...base,
        label: `${s.service} latency percentiles`,
        unit: 'ms',
        height: 110,
        lines: ['p50', 'p95', 'p99'].map((p) => ({ label: p, values: s.series[p], color: COLORS[p] })),
      },
      { ...base, label: `${s.service} error rate`, unit: '%', height: 70, lines: [{ label: 'errors', values: s.series.error_rate, color: COLORS.error_rate }] },
      {
        ...base,
        label: `${s.service} throughput`,
        unit: '/s',
        height: 70,
        lines: [{ label: 'per second', values: s.series.throughput, color: COLORS.throughput }],
      },
    ];
    card.querySelectorAll('.chart').forEach((el, i) => {
      charts.add(timeChart(el, specs[i]));
    });
  }

  function card(s) {
    const latest = (values) => values.findLast((v) => v !== null) ?? null;
    const d = s.last_deployment;
    const incidentsLink = h('a', { href: `#/incidents?service=${encodeURIComponent(s.service)}&status=open` }, `${s.open_incidents} open`);
    return h(
      'article',
      { class: 'card', dataset: { service: s.service }, 'aria-label': s.service },
      h(
        'header',
        {},
        h('h2', {}, s.service),
        s.open_incidents > 0 ? h('span', {}, badge(s.worst_open_severity ?? 'open'), ' ', incidentsLink) : h('span', { class: 'muted' }, 'no open incidents'),
      ),
      h(
        'div',
        { class: 'facts' },
        d ? h('span', {}, `Deployed ${d.version} ${ago(d.at)} (${d.status})`) : h('span', { class: 'muted' }, 'no deployment recorded'),
        s.latency_metric ? h('span', { class: 'muted' }, s.latency_metric) : null,
      ),
      h('p', { class: 'chart-title' }, `Latency · p99 ${quantity(latest(s.series.p99), 'ms')}`),
      h('div', { class: 'chart' }),
      h('p', { class: 'chart-title' }, `Error rate · ${quantity(latest(s.series.error_rate), '%')}`),
      h('div', { class: 'chart' }),
      h('p', { class: 'chart-title' }, `Throughput · ${quantity(latest(s.series.throughput), '/s')}`),
      h('div', { class: 'chart' }),
    );
  }

  function show() {
    for (const c of charts) c.destroy();
    charts.clear();
    visible.disconnect();
    const q = search.value.trim().toLowerCase();
    const shown = overview.services.filter((s) => s.service.toLowerCase().includes(q) && (!onlyOpen.checked || s.open_incidents > 0));
    count.textContent = `${shown.length} of ${overview.services.length} services`;
    const cards = shown.map(card);
    replace(
      grid,
      cards.length ? cards : h('p', { class: 'muted' }, overview.services.length ? 'No service matches.' : 'No service has sent anything in this window yet.'),
    );
    for (const c of cards) visible.observe(c);
    main.dataset.ready = 'services';
  }

  async function load() {
    try {
      overview = await api(`/v1/services?minutes=${minutes}`, { signal: ctx.signal });
      replace(status);
      show();
    } catch (err) {
      if (!ctx.signal.aborted) replace(status, errorText(err));
    }
  }

  let pending = null;
  /** An incident opened, changed or resolved: its service's badge must follow (one reload for a burst). */
  const onIncident = () => {
    pending ??= setTimeout(() => {
      pending = null;
      load();
    }, 1000);
  };
  search.addEventListener('input', () => overview && show());
  onlyOpen.addEventListener('change', () => overview && show());
  windowSelect.addEventListener('change', () => {
    minutes = Number(windowSelect.value);
    sessionStorage.setItem('autopilot.window', String(minutes));
    load();
  });
  ctx.live.addEventListener('incident', onIncident);
  ctx.live.addEventListener('resync', onIncident);
  const timer = setInterval(load, REFRESH_MS);

  delete main.dataset.ready;
  replace(
    main,
    h('h1', {}, 'Services'),
    h(
      'div',
      { class: 'toolbar', role: 'search' },
      h('label', { for: 'service-search' }, 'Filter', search),
      h('label', { for: 'only-open' }, onlyOpen, 'Only with open incidents'),
      h('label', { for: 'window' }, 'Window', windowSelect),
      legend([
        { label: 'p50', color: COLORS.p50 },
        { label: 'p95', color: COLORS.p95 },
        { label: 'p99', color: COLORS.p99 },
        { label: 'deployment', color: COLORS.deployment },
      ]),
    ),
    status,
    count,
    grid,
  );
  load();

  return () => {
    clearInterval(timer);
    clearTimeout(pending);
    ctx.live.removeEventListener('incident', onIncident);
    ctx.live.removeEventListener('resync', onIncident);
    visible.disconnect();
    for (const c of charts) c.destroy();
  };
}

/** The last deployment, when it falls inside the window. */
function deploymentMarkers(s, overview) {
  const d = s.last_deployment;
  return d && d.at >= overview.from && d.at < overview.to ? [{ at: d.at, label: d.version }] : [];
}
