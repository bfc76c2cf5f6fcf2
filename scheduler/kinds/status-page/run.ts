import { createHash } from 'node:crypto';
import { AutopilotError, describeError, unavailable } from '../../../lib/errors.ts';
import type { GuardedResponse } from '../../../tenant-config/guarded-http.ts';
import { durationMs } from '../../../tenant-config/duration.ts';
import type { StatusPageParams } from '../../../tenant-config/jobs.ts';
import { checkOutgoingUrl } from '../../../tenant-config/url-guard.ts';
import type { JobContext, JobResult, JobRunner } from '../../context.ts';
import { changeRecords, diffSnapshots, settle } from './changes.ts';
import { looksLikeFeed, parseFeed } from './feed.ts';
import { readHtmlStatus } from './html.ts';
import { incidentIoUrl, looksLikeIncidentIo, parseIncidentIo } from './incident-io.ts';
import { type Snapshot, storable, unreadable } from './snapshot.ts';
import { looksLikeStatuspage, parseStatuspage, statuspageUrl } from './statuspage.ts';

/**
 * The status_page kind: read a third-party status source, compare it with
 * what the previous run saw, and publish the differences as
 * ExternalStatusChange records, one per dependent service.
 *
 * - Conditional GET: the ETag and Last-Modified of the last read go back as
 *   If-None-Match / If-Modified-Since; a 304 (or the very same body) is no change.
 * - The snapshot and validators are saved only once the records are
 *   published: a run that fails to publish is seen again, whole, by the next.
 *   Just before publishing, the run notes the body's hash and the time it
 *   saw it, so a rerun of the same body after a crash writes the same records
 *   (same change_id, same `at`), which the table then keeps once.
 * - Redirects are followed (at most 5), each hop judged by the URL guard.
 */
export type SourceFormat = Exclude<StatusPageParams['format'], 'auto'>;

export interface StatusPageState {
  /** The last read that was published, for the URL and format it was read as. */
  seen?: {
    url: string;
    format: SourceFormat;
    etag: string | null;
    last_modified: string | null;
    body_sha: string;
    observed_at: number;
    snapshot: Snapshot;
  };
  /** Set just before a publish, cleared after it: what a crashed run saw, and when. */
  pending?: { body_sha: string; observed_at: number };
}

const MAX_REDIRECTS = 5;

const ACCEPT: Record<StatusPageParams['format'], string> = {
  auto: 'application/json, application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5',
  statuspage: 'application/json',
  incident_io: 'application/json',
  feed: 'application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9',
  html: 'text/html, application/xhtml+xml;q=0.9',
};

export const runStatusPage: JobRunner<'status_page'> = async (job, ctx) => {
  const p = job.params;
  const url = sourceUrl(p.url, p.format);
  const state = (await ctx.state.get<StatusPageState>()) ?? {};
  // Validators and the snapshot belong to what was read: a job pointed elsewhere starts over.
  const seen = state.seen?.url === url && (p.format === 'auto' || p.format === state.seen.format) ? state.seen : undefined;

  const headers: Record<string, string> = {
    'user-agent': 'Autopilot-StatusPage',
    accept: ACCEPT[p.format],
    ...lowerKeys(p.headers),
    ...(seen?.etag ? { 'if-none-match': seen.etag } : {}),
    ...(seen?.last_modified ? { 'if-modified-since': seen.last_modified } : {}),
  };
  const res = await fetchSource(url, headers, durationMs(p.timeout), ctx);

  if (res.status === 304) return result(304, true, seen?.format ?? p.format, seen?.snapshot, 0, 0);
  const body = await res.text();
  if (res.status < 200 || res.status >= 300) {
    throw (res.status >= 500 || res.status === 429 || res.status === 408 ? unavailable : notUsable)(
      `status page ${url} answered HTTP ${res.status}${body ? `: ${body.replace(/\s+/g, ' ').trim().slice(0, 200)}` : ''}`,
    );
  }

  const format = p.format === 'auto' ? detectFormat(res.headers.get('content-type') ?? '', body) : p.format;
  const prior = seen?.format === format ? seen : undefined;
  const bodySha = createHash('sha256').update(body).digest('hex');
  const validators = { etag: res.headers.get('etag'), last_modified: res.headers.get('last-modified') };
  if (prior && prior.body_sha === bodySha) {
    // The server sent the same page again (no validators, or it ignored them): nothing to read or publish.
    if (prior.etag !== validators.etag || prior.last_modified !== validators.last_modified) {
      await ctx.state.set<StatusPageState>({ seen: { ...prior, ...validators } });
    }
    return result(res.status, false, format, prior.snapshot, 0, 0);
  }

  const snapshot = settle(prior?.snapshot ?? null, await readSnapshot(format, body, p, ctx));
  // A run stopped while the model read the page publishes nothing: its successor reads the page again.
  if (ctx.signal.aborted) throw new Error(`the run was stopped while reading ${url}`);
  const changes = diffSnapshots(prior?.snapshot ?? null, snapshot, p.provider);
  const observedAt = state.pending?.body_sha === bodySha ? state.pending.observed_at : ctx.now();
  const records = changeRecords(changes, {
    tenant: ctx.tenant,
    jobId: ctx.jobId,
    provider: p.provider,
    dependents: p.dependents,
    pageUrl: p.url,
    observedAt,
    since: prior?.observed_at ?? null,
  });
  if (records.length > 0) {
    await ctx.state.set<StatusPageState>({ ...state, pending: { body_sha: bodySha, observed_at: observedAt } });
    await ctx.publisher.publish('externalStatus', records);
  }
  await ctx.state.set<StatusPageState>({
    seen: { url, format, ...validators, body_sha: bodySha, observed_at: observedAt, snapshot: storable(snapshot) },
  });
  return result(res.status, false, format, snapshot, changes.length, records.length);
};

function result(
  status: number,
  notModified: boolean,
  format: StatusPageParams['format'],
  snapshot: Snapshot | undefined,
  changes: number,
  items: number,
): JobResult {
  return {
    items,
    details: {
      status,
      not_modified: notModified,
      format,
      components: snapshot?.components.length ?? 0,
      incidents: snapshot?.incidents.length ?? 0,
      maintenances: snapshot?.maintenances.length ?? 0,
      changes,
    },
  };
}

/** Where each format is read from: Statuspage's summary and incident.io's widget from a page's base URL; the rest as given. */
export function sourceUrl(url: string, format: StatusPageParams['format']): string {
  if (format === 'statuspage') return statuspageUrl(url);
  if (format === 'incident_io') return incidentIoUrl(url);
  return url;
}

/** Format auto: JSON by its shape, then RSS/Atom, then HTML (read by the model). */
export function detectFormat(contentType: string, body: string): SourceFormat {
  const type = contentType.toLowerCase();
  const start = body.trimStart();
  if (type.includes('json') || start.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      throw unreadable('JSON', `the body is not JSON (${describeError(err)})`, { content_type: contentType, body_start: start.slice(0, 200) });
    }
    if (looksLikeStatuspage(value)) return 'statuspage';
    if (looksLikeIncidentIo(value)) return 'incident_io';
    throw unreadable(
      'statuspage or incident_io',
      'JSON that is neither a Statuspage summary (page, status, components) nor an incident.io widget answer (ongoing_incidents)',
    );
  }
  if (looksLikeFeed(body)) return 'feed';
  if (type.includes('html') || /^(<!--[\s\S]*?-->\s*)*<(!doctype html|html)\b/i.test(start)) return 'html';
  if (/xml/.test(type)) return 'feed'; // XML that is not a feed: the feed reader says what it is
  throw unreadable('any format', `content-type '${contentType || 'none'}' with a body starting '${start.slice(0, 40)}' is none of JSON, RSS/Atom or HTML`);
}

async function readSnapshot(format: SourceFormat, body: string, p: StatusPageParams, ctx: JobContext): Promise<Snapshot> {
  switch (format) {
    case 'statuspage':
      return parseStatuspage(body);
    case 'incident_io':
      return parseIncidentIo(body);
    case 'feed':
      return parseFeed(body);
    case 'html':
      return readHtmlStatus(body, p, ctx);
  }
}

/** A 4xx or a redirect that leads nowhere: the job's URL or headers need fixing, and retrying will not help. */
const notUsable = (message: string) => new AutopilotError('invalid_target', message);

/** GET through the URL guard, following redirects; a 304 is returned as is. */
async function fetchSource(url: string, headers: Record<string, string>, timeoutMs: number, ctx: JobContext): Promise<GuardedResponse> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
  let target = url;
  for (let hop = 0; ; hop++) {
    await checkOutgoingUrl(target, ctx.guard);
    let res: GuardedResponse;
    try {
      res = await ctx.http(target, { method: 'GET', headers, signal, redirect: 'manual' });
    } catch (err) {
      if (ctx.signal.aborted) throw err; // the run itself was stopped
      if (signal.aborted) throw unavailable(`status page ${target} did not answer within ${timeoutMs} ms`, err);
      throw unavailable(`status page ${target} could not be reached: ${describeError(err)}`, err);
    }
    if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
    const location = res.headers.get('location');
    if (!location) throw notUsable(`status page ${target} answered HTTP ${res.status} without a Location to follow`);
    if (hop >= MAX_REDIRECTS) throw notUsable(`status page ${url} redirected more than ${MAX_REDIRECTS} times (last to ${location})`);
    target = new URL(location, target).toString();
  }
}

function lowerKeys(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}
