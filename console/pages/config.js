import { api } from '../api.js';
import { badge, errorText, h, replace } from '../dom.js';
import { dateTime, percent } from '../format.js';

/**
 * The tenant's configuration through the same API a script would use: alert
 * rules and notification targets (edited as JSON, checked by the API, whose
 * errors are shown as it words them), prompts (versions, diff, tags) and
 * experiments (the report and its z-test verdicts).
 */
const TABS = [
  ['rules', 'Alert rules'],
  ['targets', 'Notification targets'],
  ['prompts', 'Prompts'],
  ['experiments', 'Experiments'],
];

const DOCUMENTS = {
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

export function configPage(main, [tab = 'rules'], { signal }) {
  delete main.dataset.ready;
  const body = h('div');
  replace(
    main,
    h('h1', {}, 'Configuration'),
    h(
      'nav',
      { class: 'tabs', 'aria-label': 'Configuration' },
      TABS.map(([name, label]) => h('a', { href: `#/config/${name}`, 'aria-current': name === tab ? 'page' : undefined }, label)),
    ),
    body,
  );
  if (DOCUMENTS[tab]) documentsTab(body, DOCUMENTS[tab], main, signal);
  else if (tab === 'prompts') promptsTab(body, main, signal);
  else if (tab === 'experiments') experimentsTab(body, main, signal);
  else replace(body, errorText(new Error(`No configuration page ${tab}`)));
}

/** A list of documents, and a JSON editor for one (new or existing). */
function documentsTab(root, doc, main, signal) {
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

function promptsTab(root, main, signal) {
  const detail = h('div');
  const open = async (name) => {
    try {
      const prompt = await api(`/v1/prompts/${encodeURIComponent(name)}`, { signal });
      const versions = prompt.versions.map((v) => v.version).sort((a, b) => a - b);
      const from = select('diff-from', versions, versions.at(-2) ?? versions[0]);
      const to = select('diff-to', versions, versions.at(-1));
      const diff = h('pre', { class: 'diff', 'aria-label': 'Difference' });
      const showDiff = async () => {
        const text = await api(`/v1/prompts/${encodeURIComponent(name)}/diff?from=${from.value}&to=${to.value}`);
        replace(
          diff,
          text.split('\n').map((line) => h('span', { class: diffClass(line) }, `${line}\n`)),
        );
      };
      const template = h('pre', { 'aria-label': 'Template', hidden: true });
      const showTemplate = async (v) => {
        const full = await api(`/v1/prompts/${encodeURIComponent(name)}/versions/${v}`);
        template.hidden = false;
        replace(template, full.template);
      };
      const tagName = h('input', { id: 'tag-name', value: 'production', size: 14 });
      const tagVersion = select('tag-version', versions, versions.at(-1));
      const said = h('div', { 'aria-live': 'polite' });
      const setTag = async (e) => {
        e.preventDefault();
        try {
          await api(`/v1/prompts/${encodeURIComponent(name)}/tags/${encodeURIComponent(tagName.value.trim())}`, {
            method: 'PUT',
            body: { version: Number(tagVersion.value) },
          });
          await open(name);
        } catch (err) {
          replace(said, errorText(err));
        }
      };
      replace(
        detail,
        h('h2', {}, name),
        h(
          'p',
          {},
          'Tags: ',
          Object.entries(prompt.tags).length
            ? Object.entries(prompt.tags).map(([t, v]) => h('span', {}, h('code', {}, t), ` → v${v} `))
            : h('span', { class: 'muted' }, 'none'),
        ),
        h(
          'table',
          { 'aria-label': `Versions of ${name}` },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Version', 'Changelog', 'Created'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            {},
            prompt.versions.map((v) =>
              h(
                'tr',
                {},
                h(
                  'td',
                  {},
                  h('button', { type: 'button', onclick: () => showTemplate(v.version), 'aria-label': `Show the template of v${v.version}` }, `v${v.version}`),
                ),
                h('td', {}, v.changelog ?? ''),
                h('td', {}, v.created_at ? dateTime(v.created_at) : ''),
              ),
            ),
          ),
        ),
        h('h3', {}, 'Compare versions'),
        h(
          'div',
          { class: 'toolbar' },
          h('label', { for: 'diff-from' }, 'From', from),
          h('label', { for: 'diff-to' }, 'To', to),
          h('button', { type: 'button', onclick: () => showDiff().catch((err) => replace(diff, errorText(err))) }, 'Show diff'),
        ),
        diff,
        template,
        h('h3', {}, 'Tag a version'),
        h(
          'form',
          { class: 'toolbar', onsubmit: setTag },
          h('label', { for: 'tag-name' }, 'Tag', tagName),
          h('label', { for: 'tag-version' }, 'Version', tagVersion),
          h('button', { type: 'submit' }, 'Set tag'),
        ),
        said,
      );
      if (versions.length > 1) await showDiff(); // the latest change, without a click
    } catch (err) {
      if (!signal.aborted) replace(detail, errorText(err));
    }
  };
  (async () => {
    try {
      const { items } = await api('/v1/prompts', { signal });
      replace(
        root,
        items.length
          ? h(
              'ul',
              {},
              items.map((p) =>
                h(
                  'li',
                  {},
                  h('button', { type: 'button', onclick: () => open(p.name) }, p.name),
                  ` latest v${p.latest_version}`,
                  Object.keys(p.tags).length ? `, tags ${Object.keys(p.tags).join(', ')}` : '',
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No prompt versions yet: the analyst uses its built-in prompt.'),
        detail,
      );
    } catch (err) {
      if (!signal.aborted) replace(root, errorText(err));
    }
    if (!signal.aborted) main.dataset.ready = 'config';
  })();
}

/** A unified diff's added and removed lines (not its ---/+++ file headers). */
const diffClass = (line) => (/^\+(?!\+\+)/.test(line) ? 'add' : /^-(?!--)/.test(line) ? 'del' : undefined);

const select = (id, values, chosen) =>
  h(
    'select',
    { id },
    values.map((v) => h('option', { value: v, selected: v === chosen }, `v${v}`)),
  );

function experimentsTab(root, main, signal) {
  const detail = h('div');
  const open = async (id) => {
    try {
      const e = await api(`/v1/experiments/${encodeURIComponent(id)}`, { signal });
      const r = e.report;
      replace(
        detail,
        h('h2', {}, e.name ?? e.id, ' ', badge(e.status)),
        h('p', { class: 'muted' }, `Each variant against the control (${r.control}) at α = ${r.alpha}; a verdict needs ${r.min_sample} feedbacks per arm.`),
        h(
          'table',
          { 'aria-label': 'Experiment report' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Variant', 'Prompt', 'Incidents', 'Feedback', 'Helpful', 'z', 'p', 'Verdict'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            {},
            r.variants.map((v) =>
              h(
                'tr',
                {},
                h('td', {}, v.variant, v.control ? ' (control)' : ''),
                h('td', {}, `v${v.prompt_version}`),
                h('td', {}, String(v.incidents)),
                h('td', {}, String(v.feedback)),
                h('td', {}, percent(v.helpful_rate)),
                h('td', {}, v.vs_control ? v.vs_control.z.toFixed(2) : '–'),
                h('td', {}, v.vs_control ? v.vs_control.p_value.toFixed(3) : '–'),
                h('td', {}, v.verdict ?? '–'),
              ),
            ),
          ),
        ),
      );
    } catch (err) {
      if (!signal.aborted) replace(detail, errorText(err));
    }
  };
  (async () => {
    try {
      const { items } = await api('/v1/experiments', { signal });
      replace(
        root,
        items.length
          ? h(
              'ul',
              {},
              items.map((e) => h('li', {}, h('button', { type: 'button', onclick: () => open(e.id) }, e.name ?? e.id), ` on prompt ${e.prompt}`)),
            )
          : h('p', { class: 'muted' }, 'No experiments. POST /v1/experiments starts one (see /docs).'),
        detail,
      );
    } catch (err) {
      if (!signal.aborted) replace(root, errorText(err));
    }
    if (!signal.aborted) main.dataset.ready = 'config';
  })();
}
