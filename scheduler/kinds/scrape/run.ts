import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { AutopilotError, describeError } from '../../../lib/errors.ts';
import { guardedLookup } from '../../../tenant-config/guarded-http.ts';
import { durationMs } from '../../../tenant-config/duration.ts';
import { checkOutgoingUrl } from '../../../tenant-config/url-guard.ts';
import { type JobRunner, MAX_JOB_BODY_BYTES } from '../../context.ts';
import { extractText } from '../extract/extract-text.ts';
import { extractionRecord, recordId } from '../extract/record.ts';
import { capChars, MAX_PAGE_TEXT_CHARS, readHtml } from '../page-text.ts';
import { crawleeLog } from './crawlee-log.ts';
import { crawlerConfig, GuardedCrawler, NotRead, Redirected } from './crawler.ts';
import { HostPacer } from './host-pacer.ts';
import { Outbox } from './outbox.ts';
import { ROBOTS_USER_AGENT, robotsLoader } from './robots.ts';

/**
 * The scrape kind: crawl from the start URLs with crawlee's CheerioCrawler,
 * politely and inside the URL guard, and publish every page fetched (its
 * title, visible text and links) to autopilot.scraped-pages; with `extract`
 * set, each page is also read into the job's schema by the model and
 * published as an extraction, as the extract kind does.
 *
 * - robots.txt: a disallowed page is skipped and counted, never requested
 *   (robots.ts, crawler.ts).
 * - pace: at most rate_per_domain requests a second to one host, robots.txt
 *   included, whatever the concurrency (host-pacer.ts).
 * - reach: links are followed from pages with a 2xx answer up to max_depth,
 *   on the start URLs' hosts when same_domain, matching `include` when set;
 *   at most max_pages requests in all. A redirect is a request of its own
 *   to its target, at the same depth, under the same rules.
 * - guard: each URL is checked (checkOutgoingUrl) just before its request,
 *   and the connection resolves names through `guardedLookup`, so the address
 *   connected to is the address checked (no DNS rebinding); HTTP/1.1 only
 *   (got-scraping's HTTP/2 probe would connect without that lookup), TLS
 *   certificates verified, no browser-header impersonation: the crawler says
 *   who it is.
 *
 * Run details: pages (published), skipped_robots, skipped_other (refused by
 * the guard, not text, too large, over max_pages), failed (no answer, 5xx
 * after a retry, a timeout), extracted (extractions published). A page's id,
 * like an extraction's, is the run's and the URL's: a page and its
 * extraction share it.
 */
export const USER_AGENT = `${ROBOTS_USER_AGENT}/1.0 (Autopilot scheduled scrape)`;

/** Links kept on a page's record (all of them are still followed): keeps a record far below Kafka's 1 MB. */
const MAX_LINK_CHARS = 100_000;
const MAX_URL_CHARS = 2048;

export const runScrape: JobRunner<'scrape'> = async (job, ctx) => {
  const p = job.params;
  const timeoutMs = durationMs(p.timeout);
  const pacer = new HostPacer(p.rate_per_domain);
  const lookup = guardedLookup(ctx.guard);
  // Connections of this run only (got-scraping would use Node's global agents, shared by every run and tenant):
  // kept alive between the run's requests to a host, closed with the run.
  const agent = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const headers = { 'user-agent': USER_AGENT, accept: 'text/html, application/xhtml+xml, text/plain;q=0.9, */*;q=0.5', ...p.headers };
  const startHosts = new Set(p.start_urls.map((u) => new URL(u).hostname));
  const include = p.include === undefined ? undefined : new RegExp(p.include);
  // `include` is the tenant's expression, run on every link: only on links of a length a request could have
  // (checkUrlShape refuses longer ones anyway), which bounds what a badly backtracking one can cost.
  const follows = (url: string) => url.length <= MAX_URL_CHARS && (!p.same_domain || startHosts.has(new URL(url).hostname)) && (!include || include.test(url));

  // The crawl's own stop: the run's end (its timeout, the scheduler stopping) or a publish that failed. Every request
  // and every pace wait listens to it, so it may have as many listeners as requests in flight, and more.
  const crawl = new AbortController();
  setMaxListeners(8 * p.concurrency + 16, crawl.signal);
  const counts = { pages: 0, failed: 0, extracted: 0 };
  const skippedRobots = new Set<string>();
  const skippedOther = new Set<string>();
  const out = new Outbox(ctx);
  const extractions = new Serial();
  const extractionStatus = { ok: 0, invalid: 0, model_unavailable: 0 };

  // crawlee's navigation timeout holds the wait for the host's pace as well as the request (which got times itself);
  // the handler may wait for the extractions queued before its own (one model call at a time, each bounded by llm.timeoutMs).
  const navigationTimeoutMs = timeoutMs + pacer.worstWaitMs(p.concurrency);
  const handlerTimeoutMs = (p.extract ? p.concurrency * (ctx.llm.timeoutMs + 1000) : 0) + 30_000;

  const crawler: GuardedCrawler = new GuardedCrawler(
    {
      log: crawleeLog(ctx.log),
      maxConcurrency: p.concurrency,
      minConcurrency: p.concurrency,
      maxRequestsPerCrawl: p.max_pages,
      maxCrawlDepth: p.max_depth,
      // One retry for a connection failure or a 5xx; more would hammer a site that is already struggling.
      maxRequestRetries: 1,
      navigationTimeoutSecs: navigationTimeoutMs / 1000,
      requestHandlerTimeoutSecs: handlerTimeoutMs / 1000,
      // Sessions rotate identities on 401/403/429 to get past blocking: a polite crawler takes the answer.
      useSessionPool: false,
      persistCookiesPerSession: false,
      ignoreSslErrors: false,
      respectRobotsTxtFile: { userAgent: ROBOTS_USER_AGENT },
      onSkippedRequest: ({ url, reason }) => {
        if (reason === 'robotsTxt') skippedRobots.add(url);
        else if (reason === 'limit' || reason === 'enqueueLimit') skippedOther.add(url);
      },
      preNavigationHooks: [
        async ({ request }, gotOptions) => {
          try {
            await checkOutgoingUrl(request.url, ctx.guard);
          } catch (err) {
            if (err instanceof AutopilotError && err.code === 'invalid_target') request.noRetry = true;
            throw err;
          }
          Object.assign(gotOptions, {
            dnsLookup: lookup,
            agent,
            http2: false,
            followRedirect: false,
            useHeaderGenerator: false,
            signal: crawl.signal,
            // got's own clock starts when the request is made, after the pace's wait.
            timeout: { request: timeoutMs },
            hooks: { beforeRequest: [async () => pacer.wait(request.url, crawl.signal)] },
            headers: { ...gotOptions.headers, ...headers },
          });
        },
      ],
      requestHandler: async ({ request, response, $, body }) => {
        const url = request.url;
        const page = $ ? readHtml($, url) : { title: '', text: capChars(String(body ?? ''), MAX_PAGE_TEXT_CHARS), links: [] };
        const status = response.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const depth = request.crawlDepth ?? 0;
        if (ok && depth < p.max_depth) {
          const next = page.links.filter(follows);
          if (next.length > 0)
            await crawler.addRequests(
              next.map((u) => ({ url: u, crawlDepth: depth + 1 })),
              { waitForAllRequestsToBeAdded: true },
            );
        }
        counts.pages++;
        await out.page({
          page_id: recordId(ctx, url),
          tenant: ctx.tenant,
          job_id: ctx.jobId,
          run_id: ctx.runId,
          url,
          depth,
          status,
          content_type: String(response.headers['content-type'] ?? ''),
          title: page.title,
          text: page.text,
          links: keptLinks(page.links),
          fetched_at: ctx.now(),
        });
        if (p.extract && ok && page.text !== '') {
          const extraction = p.extract;
          await extractions.run(async () => {
            if (crawl.signal.aborted) return;
            const at = ctx.now();
            const outcome = await extractText(page.text, extraction, { llm: ctx.llm, signal: crawl.signal });
            if (crawl.signal.aborted) return;
            extractionStatus[outcome.status]++;
            counts.extracted++;
            await out.extraction(extractionRecord(outcome, url, at, ctx));
          });
        }
      },
      failedRequestHandler: async ({ request }, error) => {
        const depth = request.crawlDepth ?? 0;
        if (error instanceof Redirected) {
          // The start URLs are the job's own; anywhere else a redirect is followed as a link would be.
          if (depth === 0 || follows(error.to)) await crawler.addRequests([{ url: error.to, crawlDepth: depth }], { waitForAllRequestsToBeAdded: true });
          return;
        }
        if (error instanceof NotRead || (error instanceof AutopilotError && error.code === 'invalid_target')) {
          skippedOther.add(request.url);
          ctx.log.info({ url: request.url, reason: error.message }, 'scrape: page not read');
          return;
        }
        counts.failed++;
        ctx.log.info({ url: request.url, err: describeError(error) }, 'scrape: page failed');
      },
    },
    crawlerConfig(),
    { robots: robotsLoader(ctx, pacer, { timeoutMs, headers, signal: crawl.signal }), maxBodyBytes: MAX_JOB_BODY_BYTES },
  );

  const stop = () => {
    crawl.abort();
    void crawler.autoscaledPool?.abort();
  };
  ctx.signal.addEventListener('abort', stop, { once: true });
  out.onFailure = stop;
  try {
    if (!ctx.signal.aborted) await crawler.run(p.start_urls.map((url) => ({ url, crawlDepth: 0 })));
    await extractions.idle();
    await out.flush();
  } finally {
    ctx.signal.removeEventListener('abort', stop);
    agent.http.destroy();
    agent.https.destroy();
  }
  if (ctx.signal.aborted) throw new Error(`the run was stopped after ${counts.pages} pages`);
  if (out.failure) throw out.failure;
  return {
    items: counts.pages,
    details: {
      pages: counts.pages,
      skipped_robots: skippedRobots.size,
      skipped_other: skippedOther.size,
      failed: counts.failed,
      extracted: counts.extracted,
      ...(p.extract ? { extraction_status: extractionStatus } : {}),
    },
  };
};

/** Links as the record keeps them: in page order, up to MAX_LINK_CHARS in all. */
function keptLinks(links: string[]): string[] {
  let size = 0;
  const kept: string[] = [];
  for (const link of links) {
    size += link.length;
    if (size > MAX_LINK_CHARS) break;
    kept.push(link);
  }
  return kept;
}

/** One task at a time, in the order given: a local model answers one question at a time anyway. */
class Serial {
  private tail: Promise<void> = Promise.resolve();

  run(task: () => Promise<void>): Promise<void> {
    const done = this.tail.then(task);
    this.tail = done.catch(() => {});
    return done;
  }

  idle(): Promise<void> {
    return this.tail;
  }
}
