import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { CheerioCrawler, type CheerioCrawlerOptions, type CheerioCrawlingContext, Configuration, type Request } from '@crawlee/cheerio';
import type { RobotsTxtFile } from '@crawlee/utils';
import type { RobotsLoader } from './robots.ts';

/**
 * crawlee's CheerioCrawler with the doors this deployment keeps shut:
 *
 * - robots.txt comes from `robots` (robots.ts: through the URL guard, RFC 9309
 *   answers), where crawlee would fetch it unguarded; crawlee still decides
 *   with it, when links are enqueued and again when a request is taken from
 *   the queue, before any navigation (BasicCrawler._runTaskFunction), so a
 *   disallowed page is never requested.
 * - the response is judged before its body is read: a redirect is not
 *   followed here (got's redirects would skip the URL guard's checks, the
 *   robots rules and the host's pace) but handed back as `Redirected`, for
 *   the runner to queue its target as a request of its own; a type that is
 *   not text is not downloaded; a body is read up to `maxBodyBytes`.
 *
 * Each run gets its own in-memory Configuration (crawlerConfig), so nothing
 * is written to ./storage and nothing is shared between runs.
 */
export class Redirected extends Error {
  constructor(
    readonly from: string,
    readonly to: string,
    readonly status: number,
  ) {
    super(`${from} answered ${status}: a redirect to ${to}`);
    this.name = 'Redirected';
  }
}

/** A response deliberately left unread: not text, or too large. */
export class NotRead extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotRead';
  }
}

/** Types read as pages; cheerio parses the (X)HTML and XML ones, the others are text as it comes. */
const READABLE = new Set(['text/html', 'application/xhtml+xml', 'text/xml', 'application/xml', 'text/plain', 'application/json']);

export class GuardedCrawler extends CheerioCrawler {
  private readonly robots: RobotsLoader;
  private readonly maxBodyBytes: number;

  constructor(options: CheerioCrawlerOptions, config: Configuration, gate: { robots: RobotsLoader; maxBodyBytes: number }) {
    // Every type reaches _parseResponse below, which decides, rather than crawlee's list (that would refuse a redirect without a body type).
    super({ ...options, additionalMimeTypes: ['*/*'] }, config);
    this.robots = gate.robots;
    this.maxBodyBytes = gate.maxBodyBytes;
  }

  protected override async getRobotsTxtFileForUrl(url: string): Promise<RobotsTxtFile | undefined> {
    return this.robots(url);
  }

  protected override async _parseResponse(request: Request, response: IncomingMessage, crawlingContext: CheerioCrawlingContext) {
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location) {
      response.destroy();
      request.noRetry = true;
      throw new Redirected(request.url, new URL(location, request.url).href, status);
    }
    const type = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== '' && !READABLE.has(type)) {
      response.destroy();
      request.noRetry = true;
      throw new NotRead(`${request.url} is ${type}, not a page`);
    }
    const length = Number(response.headers['content-length']);
    if (length > this.maxBodyBytes) {
      response.destroy();
      request.noRetry = true;
      throw new NotRead(`${request.url} is ${length} bytes, more than ${this.maxBodyBytes}`);
    }
    return super._parseResponse(request, capped(response, this.maxBodyBytes, request), crawlingContext);
  }
}

/** The response's stream, failing once more than `max` bytes came (a body with no length, or a lying one). */
function capped(response: IncomingMessage, max: number, request: Request): IncomingMessage {
  let size = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size <= max) return done(null, chunk);
      response.destroy();
      request.noRetry = true;
      done(new NotRead(`${request.url} is more than ${max} bytes`));
    },
  });
  response.on('error', (err) => limited.destroy(err));
  response.pipe(limited);
  // What crawlee reads off the response besides the body.
  return Object.assign(limited, {
    statusCode: response.statusCode,
    statusMessage: response.statusMessage,
    headers: response.headers,
    url: (response as { url?: string }).url,
  }) as unknown as IncomingMessage;
}

/**
 * A crawlee Configuration of this run's own: storage in memory, never on
 * disk (storageClientOptions win over the CRAWLEE_* variables, which
 * Configuration otherwise prefers to its options), no purge (it reads and
 * clears ./storage even for memory storage, and a fresh memory store has
 * nothing to purge), and its own event manager, closed when the run ends.
 * That event manager measures the machine for crawlee's autoscaling once a
 * minute rather than every second: each measure spawns `ps`, and a crawl of
 * fixed concurrency (min = max) has nothing to scale.
 */
export function crawlerConfig(): Configuration {
  return new Configuration({
    persistStorage: false,
    purgeOnStart: false,
    systemInfoIntervalMillis: 60_000,
    storageClientOptions: { persistStorage: false, writeMetadata: false },
  });
}
