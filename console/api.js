/**
 * The console talks to the gateway's own API with the API key the person
 * signed in with. The key lives in sessionStorage: it is gone when the tab
 * closes, and other sites cannot read it. The tenant follows from the key on
 * the server, exactly as for any other client.
 */

const KEY = 'autopilot.apiKey';
const TENANT = 'autopilot.tenant';

export const session = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  get tenant() {
    return sessionStorage.getItem(TENANT);
  },
  save(key, tenant) {
    sessionStorage.setItem(KEY, key);
    sessionStorage.setItem(TENANT, tenant);
  },
  clear() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(TENANT);
  },
};

/** The API's error shape ({"error": {code, message, details}}) as an exception. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** Called when the key stops working (401): the app signs the person out. */
let onUnauthorized = () => {};
export const whenUnauthorized = (fn) => {
  onUnauthorized = fn;
};

/**
 * One API call: JSON in and out (text for text answers such as a prompt
 * diff), the key as a bearer token, errors as ApiError.
 * @param {string} path
 * @param {{method?: string, body?: unknown, signal?: AbortSignal, key?: string}} [opts]
 */
export async function api(path, opts = {}) {
  const key = opts.key ?? session.key;
  const headers = { authorization: `Bearer ${key}` };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: opts.method ?? 'GET',
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
  });
  const type = res.headers.get('content-type') ?? '';
  const payload = res.status === 204 ? null : type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const e = payload?.error;
    if (res.status === 401 && opts.key === undefined) onUnauthorized();
    throw new ApiError(res.status, e?.code ?? 'error', e?.message ?? `${res.status} ${res.statusText}`, e?.details);
  }
  return payload;
}

/**
 * Server-sent events read with fetch rather than EventSource, which cannot
 * send an Authorization header (the key would have to go in the URL, and so
 * into access logs). Reconnects after `retry` ms (as the server says, 3 s by
 * default) until `stop()` is called.
 * @param {string} path
 * @param {(event: string, data: unknown) => void} onEvent
 * @param {(state: 'connecting' | 'open' | 'retrying' | 'closed') => void} onState
 * @returns {() => void} stop
 */
export function subscribe(path, onEvent, onState) {
  const abort = new AbortController();
  let retry = 3000;

  async function connect() {
    while (!abort.signal.aborted) {
      onState('connecting');
      try {
        const res = await fetch(path, { headers: { authorization: `Bearer ${session.key}`, accept: 'text/event-stream' }, signal: abort.signal });
        if (res.status === 401) {
          onUnauthorized();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`live updates answered ${res.status}`);
        onState('open');
        await readEvents(res.body, onEvent, (ms) => {
          retry = ms;
        });
      } catch (err) {
        if (abort.signal.aborted) break;
        console.warn('live updates interrupted', err);
      }
      if (abort.signal.aborted) break;
      onState('retrying');
      await new Promise((resolve) => setTimeout(resolve, retry));
    }
    onState('closed');
  }

  connect();
  return () => abort.abort();
}

/**
 * A POST answered with server-sent events (the assistant streams its steps
 * and then its answer); resolves when the stream ends.
 * @param {string} path
 * @param {unknown} body
 * @param {(event: string, data: unknown) => void} onEvent
 */
export async function postEvents(path, body, onEvent) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.key}`, accept: 'text/event-stream', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok || !res.body) {
    const e = (await res.json().catch(() => null))?.error;
    if (res.status === 401) onUnauthorized();
    throw new ApiError(res.status, e?.code ?? 'error', e?.message ?? `${res.status} ${res.statusText}`, e?.details);
  }
  await readEvents(res.body, onEvent, () => {});
}

/** Parses a text/event-stream body (https://html.spec.whatwg.org/multipage/server-sent-events.html) into events. */
async function readEvents(body, onEvent, onRetry) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = '';
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (data.length) dispatch(event || 'message', data.join('\n'), onEvent);
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue; // a comment: the server's heartbeat
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = text;
      else if (field === 'data') data.push(text);
      else if (field === 'retry' && /^\d+$/.test(text)) onRetry(Number(text));
    }
  }
}

function dispatch(event, text, onEvent) {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    data = text;
  }
  onEvent(event, data);
}
