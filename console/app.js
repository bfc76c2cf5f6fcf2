import { api, session, subscribe, whenUnauthorized } from './api.js';
import { announce, errorText, replace } from './dom.js';
import { assistantPage } from './pages/assistant.js';
import { configPage } from './pages/config.js';
import { incidentPage } from './pages/incident.js';
import { incidentsPage } from './pages/incidents.js';
import { servicesPage } from './pages/services.js';
import { signInPage } from './pages/sign-in.js';

/**
 * The console: a hash router over pages. A page is a function
 * `(main, params, ctx) => cleanup?`: it fills `main`, listens to `ctx.live`
 * for what it shows, and returns what to undo when the person leaves; its
 * requests take `ctx.signal`, aborted then, and a page draws nothing once
 * it is (a late answer must not replace the next page).
 * One live connection per signed-in tab feeds every page (`ctx.live`, an
 * EventTarget of `incident`, `analysis` and `proposal` events, and `resync`
 * after a reconnection, when what a page shows may have missed changes).
 */

const ROUTES = [
  [/^#\/sign-in$/, signInPage, null],
  [/^#\/services$/, servicesPage, 'services'],
  [/^#\/incidents(?:\?(.*))?$/, incidentsPage, 'incidents'],
  [/^#\/incidents\/([^/]+)$/, incidentPage, 'incidents'],
  [/^#\/config(?:\/([a-z-]+))?$/, configPage, 'config'],
  [/^#\/assistant$/, assistantPage, 'assistant'],
];

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const live = new EventTarget();
let stopLive = null;
let cleanup = null;
/** Aborted when the person leaves the page: its requests stop, and what they would have drawn is not drawn over the next page. */
let leaving = null;

whenUnauthorized(signOut);

function startLive() {
  if (stopLive) return;
  const indicator = document.querySelector('.live');
  const words = { connecting: 'Connecting…', open: 'Live', retrying: 'Reconnecting…', closed: 'Offline' };
  let dropped = false;
  stopLive = subscribe(
    '/v1/live',
    (event, data) => live.dispatchEvent(new CustomEvent(event, { detail: data })),
    (state) => {
      indicator.dataset.state = state;
      indicator.textContent = words[state];
      // Changes made while the connection was down were not sent: the page reloads what it shows.
      if (state === 'open' && dropped) live.dispatchEvent(new Event('resync'));
      if (state === 'retrying') dropped = true;
    },
  );
}

function signOut() {
  stopLive?.();
  stopLive = null;
  session.clear();
  location.hash = '#/sign-in';
}

/** Signs in with `key`: the gateway says which tenant it belongs to, or refuses it. */
export async function signIn(key) {
  const me = await api('/v1/me', { key });
  session.save(key, me.tenant);
  location.hash = '#/services';
}

function render() {
  const hash = location.hash || '#/services';
  if (!session.key && hash !== '#/sign-in') {
    location.hash = '#/sign-in';
    return;
  }
  const who = /** @type {HTMLElement} */ (document.querySelector('.who'));
  who.hidden = !session.key;
  if (session.key) {
    document.querySelector('.tenant').textContent = `Tenant ${session.tenant}`;
    startLive();
  }
  const route = ROUTES.find(([pattern]) => pattern.test(hash));
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (route && link.getAttribute('data-nav') === route[2]) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  cleanup?.();
  cleanup = null;
  leaving?.abort();
  leaving = new AbortController();
  if (!route) {
    replace(main, errorText(new Error(`No page at ${hash}`)));
    return;
  }
  const [pattern, page] = route;
  const params = pattern.exec(hash).slice(1); // as written in the URL: each page decodes its own
  try {
    cleanup = page(main, params, { live, signIn, announce, signal: leaving.signal }) ?? null;
  } catch (err) {
    replace(main, errorText(err));
  }
  // Keyboard and screen-reader users start at the new page, unless the page put focus where it belongs (a form's first field).
  if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
}

document.querySelector('.sign-out').addEventListener('click', signOut);
window.addEventListener('hashchange', render);
render();
