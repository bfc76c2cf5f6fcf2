import { errorText, h, replace } from '../dom.js';

/** Sign-in with an API key; the key is kept for this browser tab's session only. */
export function signInPage(main, _params, ctx) {
  const key = h('input', { type: 'password', name: 'key', id: 'api-key', autocomplete: 'off', required: true, spellcheck: 'false' });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    {
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        replace(status);
        try {
          await ctx.signIn(key.value.trim());
        } catch (err) {
          replace(status, errorText(err.status === 401 ? new Error('That key was not accepted.') : err));
          submit.disabled = false;
          key.focus();
        }
      },
    },
    h('label', { for: 'api-key' }, 'API key', key),
    h('p', { class: 'muted' }, 'The key you send data with (AUTOPILOT_API_KEYS). It stays in this tab until you sign out or close it.'),
    submit,
    status,
  );
  replace(main, h('section', { class: 'panel sign-in', 'aria-labelledby': 'sign-in-title' }, h('h1', { id: 'sign-in-title' }, 'Sign in to Autopilot'), form));
  key.focus();
}
