import { unavailable } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { AnalysisNotice, IncidentChanges, IncidentSummary, ProposalNotice } from '../sql/stores/incidents.ts';

/**
 * The console's live updates (GET /v1/live): one poller per gateway process
 * reads what was written to ClickHouse since it last looked, and fans it out
 * to the subscribers of each tenant.
 *
 * It polls only while someone subscribes. A change is news once: an incident
 * version per (incident_id, version), an analysis per analysis_id, a
 * proposal version per (proposal_id, version). Reads look back an overlap
 * before the latest time seen, because a row can become visible after rows
 * written later than it (concurrent inserts); what the overlap brings back
 * again is recognised and dropped, and forgotten once no read can return it.
 * Incidents are read by insert time (written_at), so a few seconds cover it;
 * analyses and proposals record no insert time, only when they were made or
 * changed (created_at, updated_at), so their overlap covers the pipeline's
 * lag to the table too.
 *
 * When polling starts, the first read only learns what is already there,
 * and a subscription is handed out once that read is done: a subscriber
 * gets every change that becomes visible after it has its subscription (for
 * GET /v1/live: after the response's headers), so a console that loads the
 * current state then misses nothing in between.
 */
export type LiveEvent =
  | { event: 'incident'; data: IncidentSummary }
  | { event: 'analysis'; data: AnalysisNotice }
  | { event: 'proposal'; data: ProposalNotice };

/** What the feed polls: `IncidentChanges` on ClickHouse. */
export type ChangeSource = Pick<IncidentChanges, 'versionsWrittenAfter' | 'analysesCreatedAfter' | 'proposalsUpdatedAfter'>;

export interface LiveFeedOptions {
  /** CONSOLE_LIVE_POLL_MS. */
  pollMs: number;
  /** How often a quiet stream gets a comment line, so proxies and browsers keep it open. */
  heartbeatMs?: number;
  log: Logger;
}

/** Concurrent inserts become visible within this of each other. */
const INCIDENT_OVERLAP_MS = 5_000;
/** An analysis, or a proposal's version, reaches its table within this of being made (Kafka, then the sink's next batch). */
const SINK_LAG_OVERLAP_MS = 5 * 60_000;
/** Events waiting for a subscriber that does not read: past this it is dropped, and its browser reconnects and reloads. */
const MAX_QUEUED = 1_000;

export class LiveFeed {
  readonly heartbeatMs: number;
  private readonly byTenant = new Map<string, Set<Subscription>>();
  /** Present while polling; replaced when polling starts again, so a read still in flight from before is ignored. */
  private state?: PollState;
  private stopped = false;

  constructor(
    private readonly source: () => Promise<ChangeSource>,
    private readonly opts: LiveFeedOptions,
  ) {
    this.heartbeatMs = opts.heartbeatMs ?? 15_000;
  }

  /**
   * A subscription to the tenant's changes from now on; close it when its
   * client goes away. A 503 when ClickHouse cannot be read (the first read
   * failed), since then "from now on" has no start.
   */
  async subscribe(tenant: string): Promise<Subscription> {
    const subscription: Subscription = new Subscription(() => this.remove(tenant, subscription));
    if (this.stopped) {
      subscription.close();
      return subscription;
    }
    const set = this.byTenant.get(tenant) ?? new Set();
    this.byTenant.set(tenant, set.add(subscription));
    this.state ??= this.startPolling();
    try {
      await this.state.primed.promise;
    } catch (err) {
      subscription.close();
      if (this.stopped) return subscription; // closed: its stream ends at once
      throw unavailable('live updates cannot read ClickHouse now; retry after Retry-After', err, 3);
    }
    return subscription;
  }

  /** Open subscriptions, all tenants. */
  get subscribers(): number {
    let n = 0;
    for (const set of this.byTenant.values()) n += set.size;
    return n;
  }

  get polling(): boolean {
    return this.state !== undefined;
  }

  /** Ends every subscription (their streams close) and waits for a read in flight: nothing touches ClickHouse afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    const inFlight = this.state?.inFlight;
    for (const set of [...this.byTenant.values()]) for (const s of [...set]) s.close();
    this.stopPolling();
    await inFlight;
  }

  private remove(tenant: string, subscription: Subscription): void {
    const set = this.byTenant.get(tenant);
    set?.delete(subscription);
    if (set?.size === 0) this.byTenant.delete(tenant);
    if (this.byTenant.size === 0) this.stopPolling();
  }

  private startPolling(): PollState {
    const now = Date.now();
    const state: PollState = {
      incidents: new Tail(INCIDENT_OVERLAP_MS, now),
      analyses: new Tail(SINK_LAG_OVERLAP_MS, now),
      proposals: new Tail(SINK_LAG_OVERLAP_MS, now),
      primed: deferred(),
      failing: false,
    };
    this.next(state, 0);
    return state;
  }

  private stopPolling(): void {
    clearTimeout(this.state?.timer);
    // Whoever still waits for the first read gets an answer.
    if (this.state && !this.state.primed.done) this.state.primed.reject(new Error('the live feed stopped'));
    this.state = undefined;
  }

  private next(state: PollState, delayMs: number): void {
    state.timer = setTimeout(() => {
      state.inFlight = this.poll(state).finally(() => {
        state.inFlight = undefined;
        if (this.state === state) this.next(state, this.opts.pollMs);
      });
    }, delayMs);
  }

  private async poll(state: PollState): Promise<void> {
    let incidents: Awaited<ReturnType<ChangeSource['versionsWrittenAfter']>>;
    let analyses: Awaited<ReturnType<ChangeSource['analysesCreatedAfter']>>;
    let proposals: Awaited<ReturnType<ChangeSource['proposalsUpdatedAfter']>>;
    try {
      const source = await this.source();
      incidents = await source.versionsWrittenAfter(state.incidents.after);
      analyses = await source.analysesCreatedAfter(state.analyses.after);
      proposals = await source.proposalsUpdatedAfter(state.proposals.after);
    } catch (err) {
      // Once per outage, not once a second; the next poll tries again.
      if (!state.failing) this.opts.log.warn({ err: String(err) }, 'live feed: ClickHouse read failed; retrying');
      state.failing = true;
      // Those waiting for the first read are answered (503); later ones wait for the next try.
      if (!state.primed.done) {
        state.primed.reject(err);
        state.primed = deferred();
      }
      return;
    }
    if (this.state !== state) return; // no one is listening any more
    if (state.failing) this.opts.log.info('live feed: ClickHouse reads again');
    state.failing = false;
    for (const r of incidents) {
      const fresh = state.incidents.fresh(`${r.tenant}\u0000${r.incident.incident_id}\u0000${r.incident.version}`, r.written_at);
      if (fresh && state.primed.done) this.publish(r.tenant, { event: 'incident', data: r.incident });
    }
    for (const r of analyses) {
      const fresh = state.analyses.fresh(`${r.tenant}\u0000${r.analysis.analysis_id}`, r.analysis.created_at);
      if (fresh && state.primed.done) this.publish(r.tenant, { event: 'analysis', data: r.analysis });
    }
    for (const r of proposals) {
      const fresh = state.proposals.fresh(`${r.tenant}\u0000${r.proposal.proposal_id}\u0000${r.proposal.version}`, r.proposal.updated_at);
      if (fresh && state.primed.done) this.publish(r.tenant, { event: 'proposal', data: r.proposal });
    }
    state.incidents.prune();
    state.analyses.prune();
    state.proposals.prune();
    state.primed.resolve();
  }

  private publish(tenant: string, event: LiveEvent): void {
    for (const s of this.byTenant.get(tenant) ?? []) s.push(event);
  }
}

interface PollState {
  incidents: Tail;
  analyses: Tail;
  proposals: Tail;
  /** The first read, which only learns what is there: subscriptions are handed out once it is done. */
  primed: Deferred;
  failing: boolean;
  timer?: NodeJS.Timeout;
  inFlight?: Promise<void>;
}

interface Deferred {
  promise: Promise<void>;
  done: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  const d = { done: false } as Deferred;
  d.promise = new Promise<void>((resolve, reject) => {
    d.resolve = () => {
      d.done = true;
      resolve();
    };
    d.reject = reject;
  });
  // Nobody may be waiting when a read fails: that is no unhandled rejection.
  d.promise.catch(() => undefined);
  return d;
}

/** Rows read by a time column with an overlap: where the next read starts, and which keys it may bring back again. */
class Tail {
  private latest: number;
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly overlapMs: number,
    start: number,
  ) {
    this.latest = start;
  }

  /** The next read takes rows after this. */
  get after(): number {
    return this.latest - this.overlapMs;
  }

  /** Whether the key is new; remembers it. */
  fresh(key: string, at: number): boolean {
    if (this.seen.has(key)) return false;
    this.seen.set(key, at);
    this.latest = Math.max(this.latest, at);
    return true;
  }

  /** Forgets the keys no later read can return. */
  prune(): void {
    const after = this.after;
    for (const [key, at] of this.seen) if (at <= after) this.seen.delete(key);
  }
}

/** One client's events, in order, until it goes away. */
export class Subscription {
  private queue: LiveEvent[] = [];
  private wake?: () => void;
  private closed = false;

  constructor(private readonly onClose: () => void) {}

  push(event: LiveEvent): void {
    if (this.closed) return;
    if (this.queue.length >= MAX_QUEUED) return this.close();
    this.queue.push(event);
    this.wake?.();
  }

  /** The events waiting, after up to `waitMs` for the first: [] if none came (time for a heartbeat), null once closed. */
  async next(waitMs: number): Promise<LiveEvent[] | null> {
    if (this.queue.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    if (this.closed) return null;
    const events = this.queue;
    this.queue = [];
    return events;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.wake?.();
    this.onClose();
  }
}
