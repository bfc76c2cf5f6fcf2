import { api } from '../api.js';
import { badge, errorText, h, replace } from '../dom.js';
import { ago, dateTime } from '../format.js';

/**
 * The incident list (GET /v1/incidents), newest first, filtered by status
 * and service. New incidents and new versions of listed ones arrive over the
 * live connection and are put in place without a reload.
 */
export function incidentsPage(main, [query], ctx) {
  const params = new URLSearchParams(query ?? '');
  const status = h(
    'select',
    { id: 'status-filter' },
    [
      ['', 'Any status'],
      ['open', 'Open'],
      ['resolved', 'Resolved'],
    ].map(([v, label]) => h('option', { value: v, selected: params.get('status') === v }, label)),
  );
  const service = h('input', { type: 'search', id: 'service-filter', value: params.get('service') ?? '', placeholder: 'any service' });
  const body = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const message = h('div');
  const rows = new Map(); // incident_id → its row
  let cursor = null;

  const matches = (i) => (!status.value || i.status === status.value) && (!service.value.trim() || i.service === service.value.trim());

  function row(i) {
    const d = i.suspect_deployment;
    return h(
      'tr',
      { dataset: { incident: i.incident_id } },
      h('td', {}, badge(i.status)),
      h('td', {}, badge(i.severity)),
      h('td', {}, h('a', { href: `#/incidents/${encodeURIComponent(i.incident_id)}` }, i.service)),
      h('td', { title: dateTime(i.opened_at) }, ago(i.opened_at)),
      h(
        'td',
        {},
        d
          ? `${d.version ?? d.id}${d.minutes_before === null ? '' : `, ${Math.round(d.minutes_before * 10) / 10} min before`}`
          : h('span', { class: 'muted' }, 'none'),
      ),
      h('td', {}, String(i.signal_count)),
    );
  }

  function put(i, fresh) {
    const existing = rows.get(i.incident_id);
    const next = row(i);
    if (fresh) next.classList.add('fresh');
    if (existing) existing.replaceWith(next);
    else body.prepend(next);
    rows.set(i.incident_id, next);
    replace(message);
  }

  async function load(append) {
    const q = new URLSearchParams({ limit: '50' });
    if (status.value) q.set('status', status.value);
    if (service.value.trim()) q.set('service', service.value.trim());
    if (append && cursor) q.set('cursor', cursor);
    try {
      const page = await api(`/v1/incidents?${q}`, { signal: ctx.signal });
      if (!append) {
        body.replaceChildren();
        rows.clear();
      }
      for (const i of page.incidents) {
        const r = row(i);
        rows.set(i.incident_id, r);
        body.append(r);
      }
      cursor = page.next_cursor;
      more.hidden = !cursor;
      replace(message, rows.size ? null : h('p', { class: 'muted' }, 'No incidents match. New ones appear here as they open.'));
      main.dataset.ready = 'incidents';
    } catch (err) {
      if (!ctx.signal.aborted) replace(message, errorText(err));
    }
  }

  const onIncident = (e) => {
    const i = e.detail;
    if (!matches(i)) {
      rows.get(i.incident_id)?.remove();
      rows.delete(i.incident_id);
      return;
    }
    const isNew = !rows.has(i.incident_id);
    put(i, true);
    if (isNew) ctx.announce(`New incident on ${i.service}, severity ${i.severity}`);
  };
  const resync = () => load(false);
  ctx.live.addEventListener('incident', onIncident);
  ctx.live.addEventListener('resync', resync);

  const refilter = () => {
    const q = new URLSearchParams();
    if (status.value) q.set('status', status.value);
    if (service.value.trim()) q.set('service', service.value.trim());
    history.replaceState(null, '', `#/incidents${q.size ? `?${q}` : ''}`);
    load(false);
  };
  status.addEventListener('change', refilter);
  service.addEventListener('change', refilter);
  more.addEventListener('click', () => load(true));

  delete main.dataset.ready;
  replace(
    main,
    h('h1', {}, 'Incidents'),
    h(
      'div',
      { class: 'toolbar', role: 'search' },
      h('label', { for: 'status-filter' }, 'Status', status),
      h('label', { for: 'service-filter' }, 'Service', service),
    ),
    h(
      'table',
      { 'aria-label': 'Incidents' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Status', 'Severity', 'Service', 'Opened', 'Suspect deployment', 'Signals'].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      body,
    ),
    message,
    more,
  );
  load(false);
  return () => {
    ctx.live.removeEventListener('incident', onIncident);
    ctx.live.removeEventListener('resync', resync);
  };
}
