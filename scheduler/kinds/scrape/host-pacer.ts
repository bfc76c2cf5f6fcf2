import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Requests to one host spaced by at least 1/rate, whatever the crawl's
 * concurrency. Each request waits, in the order they asked, until the one
 * before it to the same host actually went out plus the interval: spacing
 * from when a request left rather than from a planned slot, so a request
 * that left late (the crawler's first, while got-scraping loads) cannot
 * leave the next one closer behind it.
 *
 * Why not crawlee's own knobs (read in @crawlee/basic 3.18): `sameDomainDelaySecs`
 * keys hosts by registrable domain (tldts), which IP addresses and localhost
 * do not have, so they get no delay at all; it stamps a request when it is
 * taken from the queue, before the robots.txt check, the URL guard's DNS
 * lookup and got's setup, so the gap at the wire shrinks by however long
 * those took; and it puts a delayed request back in the queue on a timer.
 * `maxRequestsPerMinute` is one budget for the whole crawl, counted per
 * minute: 120 requests in the first second still pass a limit of 2/s. Here
 * the wait is the last thing before the socket is asked for (got's
 * beforeRequest hook; for robots.txt, just before the guarded request).
 *
 * The limit is a promise about what the site sees. Between our clock and its
 * one there are the lookup, the connect and the scheduling of both ends,
 * which vary by milliseconds and now and then by tens of them (a collection,
 * a busy loop), so the pace is kept as if the limit were over 1.1 s: at
 * 2 requests/s, 550 ms apart, and a request can arrive up to 100 ms late
 * against the others before any 1 s window at the server holds 3.
 */
export class HostPacer {
  private readonly intervalMs: number;
  /** Per host: when its latest request went out (or, while it waits, will). */
  private readonly lastSent = new Map<string, Promise<number>>();

  constructor(ratePerSecond: number) {
    this.intervalMs = 1100 / ratePerSecond;
  }

  /** Resolves when a request to the URL's host may go out, and counts it as gone; rejects if `signal` aborts first. */
  async wait(url: string, signal: AbortSignal): Promise<void> {
    const host = new URL(url).hostname;
    const previous = this.lastSent.get(host) ?? Promise.resolve(Number.NEGATIVE_INFINITY);
    let sent: (at: number) => void = () => {};
    this.lastSent.set(host, new Promise<number>((resolve) => (sent = resolve)));
    const previousAt = await previous;
    try {
      const delay = previousAt + this.intervalMs - performance.now();
      if (delay > 0) await sleep(delay, undefined, { signal });
      signal.throwIfAborted();
      sent(performance.now());
    } catch (err) {
      sent(previousAt); // nothing went out: the next request keeps this one's place
      throw err;
    }
  }

  /** The longest a request can wait when `inFlight` requests to one host (and its robots.txt) ask at once. */
  worstWaitMs(inFlight: number): number {
    return (inFlight + 1) * this.intervalMs;
  }
}
