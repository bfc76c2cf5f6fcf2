import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { htmlText } from '../page-text.ts';
import { emptySnapshot, type EventState, type Impact, isClosedStatus, isoDate, type Snapshot, statusWord, unreadable } from './snapshot.ts';

/**
 * RSS 2.0 and Atom incident feeds (Statuspage's history.rss / history.atom,
 * as GitHub's status page serves them, and other providers' feeds): each
 * item is an incident, or a maintenance when its updates use only
 * maintenance words. Statuspage writes an item's updates newest first as
 * `<strong>Word</strong> - text` paragraphs, and ends with "This incident
 * affected: A, B and C."; other feeds are read from their title and text.
 * An item is closed when its latest update says Resolved or Completed.
 */

export interface FeedItem {
  kind: 'incident' | 'maintenance';
  event: EventState;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Titles such as "404" or "true" stay text.
  parseTagValue: false,
  isArray: (name) => name === 'item' || name === 'entry' || name === 'link' || name === 'category',
});

/** The words Statuspage (and feeds modelled on it) lead an update with. */
const INCIDENT_WORDS = new Set(['investigating', 'identified', 'monitoring', 'resolved', 'postmortem']);
const MAINTENANCE_WORDS = new Set(['scheduled', 'in_progress', 'verifying', 'completed']);
const KNOWN_WORDS = new Set([...INCIDENT_WORDS, ...MAINTENANCE_WORDS, 'update']);

/** True when a body looks like an RSS or Atom document (for format auto). */
export const looksLikeFeed = (body: string): boolean => /^\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*<(rss|feed|rdf:RDF)\b/i.test(body);

export function parseFeed(text: string): Snapshot {
  const items = feedItems(text);
  const open = items.filter((i) => !isClosedStatus(i.event.status));
  return {
    ...emptySnapshot('all'),
    incidents: open.filter((i) => i.kind === 'incident').map((i) => i.event),
    maintenances: open.filter((i) => i.kind === 'maintenance').map((i) => i.event),
    closed: items.filter((i) => isClosedStatus(i.event.status)).map((i) => i.event),
  };
}

export function feedItems(text: string): FeedItem[] {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw unreadable('feed', `not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`, { body_start: text.slice(0, 200) });
  const doc = parser.parse(text) as Record<string, unknown>;
  const rss = record(doc.rss);
  const rdf = record(doc['rdf:RDF']);
  const atom = record(doc.feed);
  if (rss) return list(record(rss.channel)?.item).map(rssItem);
  if (rdf) return list(rdf.item).map(rssItem);
  if (atom) return list(atom.entry).map(atomEntry);
  throw unreadable('feed', `the document is <${Object.keys(doc).find((k) => !k.startsWith('?')) ?? 'nothing'}>, neither an RSS channel nor an Atom feed`);
}

function rssItem(node: unknown): FeedItem {
  const item = record(node) ?? {};
  const link = textOf(list(item.link)[0]);
  return itemOf({
    id: textOf(item.guid) || link || textOf(item.title),
    title: textOf(item.title),
    url: link,
    updated: textOf(item.pubDate) || textOf(item['dc:date']),
    html: textOf(item['content:encoded']) || textOf(item.description),
  });
}

function atomEntry(node: unknown): FeedItem {
  const entry = record(node) ?? {};
  const links = list(entry.link).map((l) => record(l) ?? {});
  const alternate = links.find((l) => (l['@_rel'] ?? 'alternate') === 'alternate') ?? links[0];
  const url = textOf(alternate?.['@_href']);
  return itemOf({
    id: textOf(entry.id) || url || textOf(entry.title),
    title: textOf(entry.title),
    url,
    updated: textOf(entry.updated) || textOf(entry.published),
    html: textOf(entry.content) || textOf(entry.summary),
  });
}

function itemOf(raw: { id: string; title: string; url: string; updated: string; html: string }): FeedItem {
  const title = raw.title.replace(/\s+/g, ' ').trim();
  const updates = statuspageUpdates(raw.html);
  const text = htmlText(raw.html);
  let status: string;
  let message: string;
  if (updates.length > 0) {
    // "Update - …" posts news without a new state: the state is the latest real word.
    status = updates.find((u) => u.word !== 'update')?.word ?? 'investigating';
    message = updates[0]!.text;
  } else {
    message = text;
    status = leadingWord(title) ?? leadingWord(text) ?? (saysClosed(title) || saysClosed(text.slice(0, 300)) ? 'resolved' : 'open');
  }
  const words = updates.map((u) => u.word);
  const maintenance = words.some((w) => MAINTENANCE_WORDS.has(w)) && !words.some((w) => INCIDENT_WORDS.has(w));
  // Statuspage closes maintenances with "Completed"; other feeds say Resolved for both.
  if (maintenance && status === 'resolved') status = 'completed';
  return {
    kind: maintenance ? 'maintenance' : 'incident',
    event: {
      id: raw.id,
      name: title.replace(/^\s*\[?(resolved|completed)\]?\s*[:-]?\s*/i, '') || raw.id,
      status,
      impact: maintenance ? 'maintenance' : impactOfText(`${title}\n${message}`),
      updated_at: isoDate(raw.updated),
      url: raw.url,
      message: message.slice(0, 2000),
      components: affectedComponents(text),
    },
  };
}

/** Statuspage's `<strong>Resolved</strong> - This incident has been resolved.` paragraphs, newest first. */
function statuspageUpdates(html: string): { word: string; text: string }[] {
  const out: { word: string; text: string }[] = [];
  for (const m of html.matchAll(/<strong>\s*([^<]{1,40}?)\s*<\/strong>\s*(?:-|–|—|&#8211;|&ndash;)\s*([\s\S]*?)(?=<\/p>|<p\b|$)/gi)) {
    const word = statusWord(m[1]!);
    if (KNOWN_WORDS.has(word)) out.push({ word, text: htmlText(m[2]!) });
  }
  return out;
}

/** "Resolved: …", "[RESOLVED] …", "Investigating - …" at the start of a title or text. */
function leadingWord(text: string): string | undefined {
  const m = /^\s*\[?\s*(investigating|identified|monitoring|resolved|postmortem|scheduled|in progress|verifying|completed)\b/i.exec(text);
  return m ? statusWord(m[1]!) : undefined;
}

/** Says it is resolved or completed, and not "not yet resolved". */
const saysClosed = (text: string): boolean => /(?<!\bnot\s(?:yet\s)?(?:been\s)?)\b(resolved|completed)\b/i.test(text);

/** Statuspage's closing line, "This incident affected: API Requests, Webhooks, and Actions." */
function affectedComponents(text: string): string[] {
  const m = /This (?:incident|maintenance) affected:\s*(.+?)(?:\.\s|\.?\s*$)/i.exec(text);
  if (!m) return [];
  return m[1]!
    .split(/\s*,\s*(?:and\s+)?|\s+and\s+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A feed does not state an impact; its words do ("major outage", "unavailable", "degraded"). */
function impactOfText(text: string): Impact {
  if (/\b(major|full|complete|total) outage\b/i.test(text)) return 'critical';
  if (/\b(outage|unavailable|down for)\b/i.test(text)) return 'major';
  return 'minor';
}

function record(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function list(v: unknown): unknown[] {
  if (v === undefined || v === null || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

/** Text of an element that may carry attributes (`{'#text': …, '@_type': 'html'}`). */
function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const r = record(v);
  return r ? textOf(r['#text']) : '';
}
