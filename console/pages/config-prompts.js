import { api } from '../api.js';
import { errorText, h, replace } from '../dom.js';
import { dateTime } from '../format.js';

/**
 * Prompts: the analyst's templates by name, their versions (each template on
 * demand), the diff between two (the latest change shown on opening), tags
 * (which version "production" is), and a new version written here.
 */
export function promptsTab(root, main, signal) {
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
      const latest = await api(`/v1/prompts/${encodeURIComponent(name)}/versions/${versions.at(-1)}`, { signal });
      writer.start(name, latest.template);
    } catch (err) {
      if (!signal.aborted) replace(detail, errorText(err));
    }
  };
  const writer = versionWriter(async (name) => {
    await load();
    await open(name);
  });
  const load = async () => {
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
        writer.form,
      );
    } catch (err) {
      if (!signal.aborted) replace(root, errorText(err));
    }
    if (!signal.aborted) main.dataset.ready = 'config';
  };
  load();
}

/**
 * A form for a new version of a prompt (POST /v1/prompts/{name}/versions):
 * the name, the template (the opened prompt's latest to start from; it must
 * use {{context}}), and what changed. The API checks the template's
 * variables and says which it does not know.
 */
function versionWriter(saved) {
  const name = h('input', { id: 'version-name', value: 'incident-analysis', size: 24, required: true });
  const template = h('textarea', { class: 'code', id: 'version-template', spellcheck: 'false', required: true });
  const changelog = h('input', { id: 'version-changelog', size: 60, required: true, placeholder: 'what changed, and why' });
  const said = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    {
      class: 'panel',
      'aria-labelledby': 'version-title',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const body = { template: template.value, changelog: changelog.value.trim() };
          const created = await api(`/v1/prompts/${encodeURIComponent(name.value.trim())}/versions`, { method: 'POST', body });
          changelog.value = '';
          await saved(created.name ?? name.value.trim());
        } catch (err) {
          replace(said, errorText(err));
        }
      },
    },
    h('h2', { id: 'version-title' }, 'Write a version'),
    h('p', {}, h('label', { for: 'version-name' }, 'Prompt', name)),
    h('label', { for: 'version-template', class: 'sr-only' }, 'Template'),
    template,
    h('p', {}, h('label', { for: 'version-changelog' }, 'Changelog', changelog)),
    h('button', { type: 'submit', class: 'primary' }, 'Save version'),
    said,
  );
  return {
    form,
    start(prompt, text) {
      name.value = prompt;
      template.value = text;
      replace(said);
    },
  };
}

/** A unified diff's added and removed lines (not its ---/+++ file headers). */
const diffClass = (line) => (/^\+(?!\+\+)/.test(line) ? 'add' : /^-(?!--)/.test(line) ? 'del' : undefined);

const select = (id, values, chosen) =>
  h(
    'select',
    { id },
    values.map((v) => h('option', { value: v, selected: v === chosen }, `v${v}`)),
  );
