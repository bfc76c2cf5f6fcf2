import { api, postEvents } from '../api.js';
import { errorText, h, replace } from '../dom.js';
import { clock } from '../format.js';

/**
 * A chat with the ops assistant (POST /v1/assistant/sessions/{id}/messages,
 * streamed): each tool it calls shows as it happens, then the answer with
 * its findings, their evidence (incidents link to their page) and next steps.
 * The conversation is one assistant session, kept for this browser tab.
 */
const SESSION = 'autopilot.assistantSession';

export function assistantPage(main) {
  const log = h('div', { class: 'chat', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const question = h('textarea', { id: 'question', rows: 2, maxlength: 4000, placeholder: 'Why is checkout slow?' });
  const ask = h('button', { type: 'submit', class: 'primary' }, 'Ask');
  const newChat = h('button', { type: 'button' }, 'New conversation');

  async function sessionId() {
    const known = sessionStorage.getItem(SESSION);
    if (known) return known;
    const created = await api('/v1/assistant/sessions', { method: 'POST', body: { title: 'Console' } });
    sessionStorage.setItem(SESSION, created.session_id);
    return created.session_id;
  }

  async function history() {
    const known = sessionStorage.getItem(SESSION);
    if (!known) return;
    try {
      const { items } = await api(`/v1/assistant/sessions/${encodeURIComponent(known)}/messages`);
      replace(
        log,
        items.map((m) => (m.role === 'user' ? userTurn(m.content) : answerTurn(m.answer ?? { summary: m.content }, m))),
      );
    } catch (err) {
      if (err.status === 404) sessionStorage.removeItem(SESSION);
      else log.append(errorText(err));
    }
  }

  async function submit(e) {
    e.preventDefault();
    const text = question.value.trim();
    if (!text) return;
    ask.disabled = true;
    log.append(userTurn(text));
    const steps = h('ul', { class: 'muted' });
    const pending = h('div', { class: 'turn' }, h('p', { class: 'muted' }, 'Thinking…'), steps);
    log.append(pending);
    try {
      const id = await sessionId();
      await postEvents(`/v1/assistant/sessions/${encodeURIComponent(id)}/messages?stream=true`, { question: text }, (event, data) => {
        if (event === 'step' && data.kind === 'tool') steps.append(h('li', {}, `${data.ok ? 'Looked at' : 'Could not read'} ${data.tool} (${data.rows} rows)`));
        else if (event === 'answer') pending.replaceWith(answerTurn(data, data));
        else if (event === 'error') pending.replaceWith(h('div', { class: 'turn' }, errorText(new Error(data.error?.message ?? 'no answer'))));
      });
      question.value = '';
    } catch (err) {
      pending.replaceWith(h('div', { class: 'turn' }, errorText(err)));
    } finally {
      ask.disabled = false;
      question.focus();
    }
  }

  newChat.addEventListener('click', () => {
    sessionStorage.removeItem(SESSION);
    replace(log);
    question.focus();
  });

  replace(
    main,
    h('h1', {}, 'Assistant'),
    h('p', { class: 'muted' }, 'Ask about your services, incidents and deployments. Answers cite what they rest on.'),
    h(
      'section',
      { class: 'chat' },
      log,
      h('form', { onsubmit: submit }, h('label', { for: 'question', class: 'sr-only' }, 'Question'), question, ask),
      h('div', {}, newChat),
    ),
  );
  main.dataset.ready = 'assistant';
  history();
  question.focus();
}

const userTurn = (text) => h('div', { class: 'turn user' }, h('p', {}, text));

/** An answer: summary, findings with evidence, next steps, confidence and where it came from. */
function answerTurn(a, meta) {
  return h(
    'div',
    { class: 'turn' },
    h('p', {}, a.summary),
    a.findings?.length
      ? h(
          'ul',
          {},
          a.findings.map((f) =>
            h(
              'li',
              {},
              f.statement,
              f.evidence.length
                ? h(
                    'ul',
                    { class: 'evidence-list', 'aria-label': 'Evidence' },
                    f.evidence.map((e) => h('li', {}, evidenceLink(e))),
                  )
                : null,
            ),
          ),
        )
      : null,
    a.next_steps?.length
      ? [
          h('h3', {}, 'Next steps'),
          h(
            'ol',
            {},
            a.next_steps.map((s) => h('li', {}, s)),
          ),
        ]
      : null,
    h(
      'p',
      { class: 'muted' },
      `Confidence ${a.confidence ?? '–'} · ${meta.source === 'llm' ? `model ${meta.model}` : `rules${meta.fallback_reason ? ` (${meta.fallback_reason})` : ''}`}`,
      meta.created_at ? ` · ${clock(meta.created_at)}` : '',
    ),
  );
}

/** Evidence as the API resolves it ({ref, label}): an incident links to its page; the rest is its label, its ref on hover. */
function evidenceLink(e) {
  const { ref, label } = typeof e === 'string' ? { ref: e, label: e } : e;
  const m = /^incident:(.+)$/.exec(ref);
  return m ? h('a', { href: `#/incidents/${encodeURIComponent(m[1])}`, class: 'evidence' }, label) : h('span', { class: 'evidence', title: ref }, label);
}
