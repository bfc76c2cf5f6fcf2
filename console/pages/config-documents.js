import { api } from '../api.js';
import { badge, errorText, h, replace } from '../dom.js';

/** The configuration kept as documents (list, create, edit, delete), and how each is shown and started. */
export const DOCUMENTS = {
  rules: {
    path: '/v1/alert-rules',
    what: 'alert rule',
    columns: [
      ['Name', (r) => r.name],
      ['Kind', (r) => r.kind],
      ['Service', (r) => r.service],
      ['Condition', (r) => (r.kind === 'threshold' ? `${r.metric} ${r.field} ${r.op} ${r.value} for ${r.for}` : `anomalies ≥ ${r.min_severity} for ${r.for}`)],
      ['Severity', (r) => badge(r.severity)],
      ['Enabled', (r) => (r.enabled ? 'yes' : 'no')],
    ],
    template: {
      name: 'checkout p99 over 800 ms',
      kind: 'threshold',
      service: 'checkout',
      metric: 'http_request_duration_ms',
      field: 'p99',
      op: 'gt',
      value: 800,
      for: '2m',
      severity: 'warning',
    },
    hint: 'Durations as text (30s, 5m, 1h30m). The alert processor picks changes up within a few seconds.',
  },
  targets: {
    path: '/v1/notification-targets',
    what: 'notification target',
    columns: [
      ['Name', (t) => t.name],
      ['Kind', (t) => t.kind],
      ['URL', (t) => t.url],
      ['Minimum severity', (t) => t.min_severity ?? ''],
    ],
    template: { name: 'on-call', kind: 'slack', url: 'https://hooks.slack.com/services/…' },
    hint: 'Secrets (a Slack webhook path, header values) are shown as placeholders: enter them again to save a change.',
  },
};

/** A list of documents, and a JSON editor for one (new or existing). */
export function documentsTab(root, doc, main, signal) {
  const list = async () => {
    delete main.dataset.ready;
    try {
      const { items } = await api(doc.path, { signal });
      replace(
        root,
        h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'primary', onclick: () => edit(null) }, `New ${doc.what}`)),
        items.length
          ? h(
              'table',
              { 'aria-label': `${doc.what}s` },
              h(
                'thead',
                {},
                h('tr', {}, [...doc.columns.map(([c]) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions'))]),
              ),
              h(
                'tbody',
                {},
                items.map((item) =>
                  h(
                    'tr',
                    { dataset: { id: item.id } },
                    doc.columns.map(([, cell]) => h('td', {}, cell(item))),
                    h('td', {}, h('button', { type: 'button', onclick: () => edit(item), 'aria-label': `Edit ${item.name}` }, 'Edit')),
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted' }, `No ${doc.what}s yet.`),
      );
    } catch (err) {
      if (!signal.aborted) replace(root, errorText(err));
    }
    if (!signal.aborted) main.dataset.ready = 'config';
  };

  const edit = (item) => {
    const { id, created_at: _c, updated_at: _u, ...definition } = item ?? { ...doc.template };
    const text = h('textarea', { class: 'code', id: 'document-json', spellcheck: 'false' });
    text.value = JSON.stringify(definition, null, 2);
    const said = h('div', { 'aria-live': 'polite' });
    const save = async (e) => {
      e.preventDefault();
      let value;
      try {
        value = JSON.parse(text.value);
      } catch (err) {
        replace(said, errorText(new Error(`Not valid JSON: ${err.message}`)));
        return;
      }
      try {
        await api(id ? `${doc.path}/${encodeURIComponent(id)}` : doc.path, { method: id ? 'PUT' : 'POST', body: value });
        await list();
      } catch (err) {
        replace(said, errorText(err), err.details ? h('pre', {}, JSON.stringify(err.details, null, 2)) : null);
      }
    };
    const remove = async () => {
      if (!confirm(`Delete ${doc.what} ${item.name}?`)) return;
      try {
        await api(`${doc.path}/${encodeURIComponent(id)}`, { method: 'DELETE' });
        await list();
      } catch (err) {
        replace(said, errorText(err));
      }
    };
    replace(
      root,
      h(
        'form',
        { class: 'panel', onsubmit: save, 'aria-labelledby': 'editor-title' },
        h('h2', { id: 'editor-title' }, id ? `Edit ${doc.what} ${item.name}` : `New ${doc.what}`),
        h('p', { class: 'muted' }, doc.hint),
        h('label', { for: 'document-json', class: 'sr-only' }, `${doc.what} as JSON`),
        text,
        h(
          'div',
          { class: 'toolbar' },
          h('button', { type: 'submit', class: 'primary' }, 'Save'),
          h('button', { type: 'button', onclick: list }, 'Cancel'),
          id ? h('button', { type: 'button', class: 'danger', onclick: remove }, 'Delete') : null,
        ),
        said,
      ),
    );
    text.focus();
  };

  list();
}
