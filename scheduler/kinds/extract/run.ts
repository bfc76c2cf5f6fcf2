import { describeError } from '../../../lib/errors.ts';
import { checkOutgoingUrl } from '../../../tenant-config/url-guard.ts';
import { durationMs } from '../../../tenant-config/duration.ts';
import type { JobContext, JobRunner } from '../../context.ts';
import { readHtml } from '../page-text.ts';
import { extractText } from './extract-text.ts';
import { extractionRecord } from './record.ts';

/**
 * The extract kind: GET one page, read its text (HTML as a person reads it,
 * any other text as it is), have the model put it into the job's schema, and
 * publish one extraction with its quality score. A model that is down or
 * answers badly is part of the record (status model_unavailable / invalid,
 * the page text kept), not a failed run; a page that cannot be fetched is
 * the run's failure, as is a run stopped while the model thinks.
 */
export const runExtract: JobRunner<'extract'> = async (job, ctx) => {
  const p = job.params;
  const text = await fetchText(p.url, p.headers, durationMs(p.timeout), p.max_chars, ctx);
  const at = ctx.now();
  const outcome = await extractText(text, p, ctx);
  if (ctx.signal.aborted) throw new Error(`the run was stopped while extracting ${p.url}`);
  await ctx.publisher.publish('extractions', [extractionRecord(outcome, p.url, at, ctx)]);
  return { items: 1, details: { status: outcome.status, quality: outcome.quality, ...(outcome.error ? { error: outcome.error } : {}) } };
};

const HTML = /^(text\/html|application\/xhtml\+xml)\b/i;

/** The page's text, or a thrown error saying why there is none: refused, unreachable, not 2xx (redirects are not followed). */
async function fetchText(url: string, headers: Record<string, string> | undefined, timeoutMs: number, maxChars: number, ctx: JobContext): Promise<string> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
  await checkOutgoingUrl(url, ctx.guard);
  let res: Awaited<ReturnType<JobContext['http']>>;
  let body: string;
  try {
    res = await ctx.http(url, {
      method: 'GET',
      headers: { 'user-agent': 'Autopilot-Extract', accept: 'text/html, application/xhtml+xml, text/plain;q=0.9, */*;q=0.5', ...headers },
      signal,
      redirect: 'manual',
    });
    body = await res.text();
  } catch (err) {
    if (signal.aborted && !ctx.signal.aborted) throw new Error(`GET ${url}: no answer within ${timeoutMs} ms`, { cause: err });
    throw new Error(`GET ${url}: ${describeError(err)}`, { cause: err });
  }
  if (res.status >= 300 && res.status < 400) {
    throw new Error(
      `GET ${url} answered ${res.status} (a redirect to ${res.headers.get('location') ?? 'nowhere'}); redirects are not followed: give the final URL`,
    );
  }
  if (res.status < 200 || res.status >= 300) throw new Error(`GET ${url} answered ${res.status}`);
  return HTML.test(res.headers.get('content-type') ?? 'text/html') ? readHtml(body, url, maxChars).text : body;
}
