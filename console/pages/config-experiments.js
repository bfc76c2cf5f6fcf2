import { api } from '../api.js';
import { badge, errorText, h, replace } from '../dom.js';
import { percent } from '../format.js';

/** Experiments: each with its report (helpful rate per variant, z-test against the control, verdict); a running one can be stopped. */
export function experimentsTab(root, main, signal) {
  const detail = h('div');
  const open = async (id) => {
    try {
      const e = await api(`/v1/experiments/${encodeURIComponent(id)}`, { signal });
      const r = e.report;
      replace(
        detail,
        h('h2', {}, e.name ?? e.id, ' ', badge(e.status)),
        e.status === 'running'
          ? h(
              'p',
              {},
              h('button', { type: 'button', class: 'danger', onclick: () => stop(id) }, 'Stop the experiment'),
              h('span', { class: 'muted' }, ' no incident is assigned a variant after that; the report stays'),
            )
          : null,
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
  const stop = async (id) => {
    try {
      await api(`/v1/experiments/${encodeURIComponent(id)}/stop`, { method: 'POST' });
      await open(id);
    } catch (err) {
      replace(detail, errorText(err));
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
