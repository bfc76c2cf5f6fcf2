import { errorText, h, replace } from '../dom.js';
import { DOCUMENTS, documentsTab } from './config-documents.js';
import { experimentsTab } from './config-experiments.js';
import { promptsTab } from './config-prompts.js';

/**
 * The tenant's configuration through the same API a script would use: alert
 * rules and notification targets (edited as JSON, checked by the API, whose
 * errors are shown as it words them), prompts (versions, diff, tags, a new
 * version) and experiments (the report and its z-test verdicts). One tab per
 * file beside this one.
 */
const TABS = [
  ['rules', 'Alert rules'],
  ['targets', 'Notification targets'],
  ['prompts', 'Prompts'],
  ['experiments', 'Experiments'],
];

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
