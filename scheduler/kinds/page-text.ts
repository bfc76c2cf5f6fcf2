import type { CheerioAPI } from '@crawlee/cheerio';
import { load } from 'cheerio';

/**
 * What a person reads on an HTML page, for the scrape and extract jobs (and
 * the model): the title, the visible text with whitespace collapsed, and the
 * links, absolute. One function for both kinds so a page scraped and a page
 * extracted read the same.
 *
 * cheerio is the one @crawlee/cheerio brings (the same version it parses
 * pages with); its crawling context hands us an already parsed `$`.
 */
export interface PageText {
  title: string;
  text: string;
  /** http(s) only, absolute, without fragments, each once, in page order. */
  links: string[];
}

/** Enough for any article or status page; a bound on what one page costs downstream. */
export const MAX_PAGE_TEXT_CHARS = 100_000;

/** Never text a reader sees: code, styling, media, form plumbing. */
const SKIPPED = new Set(['script', 'style', 'noscript', 'template', 'svg', 'canvas', 'iframe', 'object', 'embed', 'head', 'select', 'option']);

/** Elements that start a new line of text in a browser; text either side of them is separated. */
const BLOCKS = new Set(
  'address article aside blockquote br dd details dialog div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table td th tr ul'.split(
    ' ',
  ),
);

interface Node {
  type: string;
  name?: string;
  data?: string;
  attribs?: Record<string, string>;
  children?: Node[];
}

/** Title, visible text (capped at `maxChars`) and links of an HTML page fetched from `pageUrl`. */
export function readHtml(html: string | CheerioAPI, pageUrl: string, maxChars = MAX_PAGE_TEXT_CHARS): PageText {
  // The same cheerio, typed twice: crawlee's context is typed by its CommonJS build, `load` here by its ES module one.
  const $ = typeof html === 'string' ? (load(html) as unknown as CheerioAPI) : html;
  const title = collapse($('title').first().text());
  const body = $('body');
  const root = (body.length > 0 ? body.toArray() : $.root().toArray()) as unknown as Node[];
  const parts: string[] = [];
  let size = 0;
  // Walks the tree rather than cheerio's .text(), which glues "<p>a</p><p>b</p>" into "ab" and keeps
  // <script> bodies. (domhandler types script and style elements as such, not as 'tag'.)
  const walk = (nodes: Node[]) => {
    for (const node of nodes) {
      if (size > maxChars) return;
      if (node.type === 'text') {
        const text = (node.data ?? '').replace(/\s+/g, ' ');
        parts.push(text);
        size += text.length;
      } else if (node.type === 'root') {
        walk(node.children ?? []);
      } else if (node.type === 'tag' && !SKIPPED.has(node.name ?? '') && !isHidden(node)) {
        const block = BLOCKS.has(node.name ?? '');
        if (block) parts.push(' ');
        walk(node.children ?? []);
        if (block) parts.push(' ');
      }
    }
  };
  walk(root);
  return { title, text: capChars(collapse(parts.join('')), maxChars), links: linksOf($, pageUrl) };
}

/** Visible text of an HTML page, as `readHtml` reads it. */
export const htmlText = (html: string, maxChars = MAX_PAGE_TEXT_CHARS): string => readHtml(html, 'http://page.invalid/', maxChars).text;

const isHidden = (node: Node) =>
  node.attribs?.hidden !== undefined || node.attribs?.['aria-hidden'] === 'true' || /display\s*:\s*none/i.test(node.attribs?.style ?? '');

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();

/** At most `max` characters, not splitting a surrogate pair. */
export function capChars(s: string, max: number): string {
  if (s.length <= max) return s;
  return s.slice(0, /[\uD800-\uDBFF]/.test(s[max - 1] ?? '') ? max - 1 : max);
}

/** Every `<a href>` and `<area href>`, resolved against `<base href>` (itself resolved against the page) or the page's URL. */
function linksOf($: CheerioAPI, pageUrl: string): string[] {
  const base = resolve($('base[href]').first().attr('href'), pageUrl) ?? pageUrl;
  const links = new Set<string>();
  $('a[href], area[href]').each((_, el) => {
    const url = resolve($(el).attr('href'), base);
    if (url) links.add(url);
  });
  return [...links];
}

function resolve(href: string | undefined, base: string): string | undefined {
  if (href === undefined || href.trim() === '') return undefined;
  try {
    const url = new URL(href.trim(), base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    url.hash = '';
    return url.href;
  } catch {
    return undefined;
  }
}
