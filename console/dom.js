/**
 * Building the page without a framework. `h` makes an element from a tag,
 * properties and children; text is always a text node, never parsed as
 * HTML, so data from the API (a log line, a root cause) cannot inject markup.
 */

/**
 * @param {string} tag
 * @param {Record<string, unknown>} [props] attributes; `on<event>` adds a listener; `class`, `dataset`, boolean attributes as booleans
 * @param {...(Node | string | number | null | undefined | false | (Node | string)[])} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'value' && 'value' in el) /** @type {HTMLInputElement} */ (el).value = String(value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/** Appends children (nested arrays flattened, null/false skipped) to `el`. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces everything in `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A severity or status as a badge: its word, coloured by its class (the word is what is read). */
export const badge = (word) => h('span', { class: `badge ${word}` }, word ?? 'unknown');

/** Says `message` to screen readers through the page's live region. */
export function announce(message) {
  const region = document.querySelector('.announcer');
  if (region) region.textContent = message;
}

/** An error from the API (or anything thrown) as a paragraph a person can act on. */
export function errorText(err) {
  return h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err));
}
