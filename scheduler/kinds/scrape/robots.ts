import { RobotsTxtFile } from '@crawlee/utils';
import { AutopilotError, describeError } from '../../../lib/errors.ts';
import { checkOutgoingUrl } from '../../../tenant-config/url-guard.ts';
import type { JobContext } from '../../context.ts';
import type { HostPacer } from './host-pacer.ts';

/**
 * robots.txt per origin, fetched once per run through the job's guarded HTTP
 * client and the host's pace (crawlee's own loader uses got-scraping with no
 * URL guard and no timeout, and lets everything through when the file
 * cannot be read). What an answer means follows RFC 9309 §2.3.1:
 *
 *   2xx              the rules in the file
 *   3xx              followed, up to 5 hops, each through the guard
 *   4xx              no rules: everything allowed
 *   5xx, no answer   everything disallowed ("unreachable": the site may be
 *                    struggling, and its rules are unknown)
 *
 * A robots.txt the URL guard refuses allows everything: its pages are on the
 * same host, which the guard refuses before any page request, and they are
 * counted as refused rather than as disallowed.
 */
export const ROBOTS_USER_AGENT = 'AutopilotBot';

const MAX_REDIRECTS = 5;

export type RobotsLoader = (pageUrl: string) => Promise<RobotsTxtFile>;

export interface RobotsOptions {
  timeoutMs: number;
  headers: Record<string, string>;
  /** The crawl's stop. */
  signal: AbortSignal;
}

export function robotsLoader(ctx: JobContext, pacer: HostPacer, opts: RobotsOptions): RobotsLoader {
  const byOrigin = new Map<string, Promise<RobotsTxtFile>>();
  return (pageUrl) => {
    const origin = new URL(pageUrl).origin;
    let rules = byOrigin.get(origin);
    if (!rules) byOrigin.set(origin, (rules = load(`${origin}/robots.txt`, ctx, pacer, opts)));
    return rules;
  };
}

async function load(robotsUrl: string, ctx: JobContext, pacer: HostPacer, opts: RobotsOptions): Promise<RobotsTxtFile> {
  const rules = (content: string) => RobotsTxtFile.from(robotsUrl, content);
  let url = robotsUrl;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    try {
      await checkOutgoingUrl(url, ctx.guard);
    } catch (err) {
      if (err instanceof AutopilotError && err.code === 'invalid_target') return rules('');
      ctx.log.info({ url, err: describeError(err) }, 'robots.txt cannot be reached: disallowing the site');
      return rules('User-agent: *\nDisallow: /');
    }
    try {
      await pacer.wait(url, opts.signal);
      const res = await ctx.http(url, {
        method: 'GET',
        headers: { ...opts.headers, accept: 'text/plain, */*;q=0.5' },
        signal: AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]),
        redirect: 'manual',
      });
      const body = await res.text();
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        url = new URL(location, url).href;
        continue;
      }
      if (res.status >= 200 && res.status < 300) return rules(body);
      if (res.status >= 400 && res.status < 500) return rules('');
      ctx.log.info({ url, status: res.status }, 'robots.txt answered with a server error: disallowing the site');
      return rules('User-agent: *\nDisallow: /');
    } catch (err) {
      ctx.log.info({ url, err: describeError(err) }, 'robots.txt cannot be read: disallowing the site');
      return rules('User-agent: *\nDisallow: /');
    }
  }
  return rules(''); // RFC 9309: past the redirect limit, as if there were no file
}
