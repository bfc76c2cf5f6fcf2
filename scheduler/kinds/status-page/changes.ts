import { createHash } from 'node:crypto';
import type { ExternalStatusChange } from '../../../schemas/topics.ts';
import type { StatusPageParams } from '../../../tenant-config/jobs.ts';
import { type ComponentState, type EventState, impactOfComponentStatus, impactOfWord, isActiveMaintenance, type Snapshot } from './snapshot.ts';

/**
 * Two snapshots of a status page → what changed, then one record per
 * dependent service. With no previous snapshot (a job's first run) every
 * subject's current state is a change from null, so the current-state table
 * starts complete; `degraded` is what tells a signal from a fact.
 */

export interface Change {
  subject_kind: ExternalStatusChange['subject_kind'];
  subject_id: string;
  subject_name: string;
  from_status: string | null;
  to_status: string;
  degraded: boolean;
  impact: ExternalStatusChange['impact'];
  message: string;
  url: string;
  /** The provider's time for this state, '' when it gives none. */
  updated_at: string;
  /** Component names (and their groups) the change concerns; empty: the whole page. */
  components: string[];
}

/**
 * What the new snapshot keeps of the old one:
 * - incident.io's widget names only affected components: one named before
 *   and not now is operational again. It is kept, as operational, so the
 *   change is seen once and the component stays in the job's picture.
 * - An incident's or maintenance's components only gather over its life
 *   (scope), so every service told of its opening is told of its updates and
 *   its end; one that named none at some point concerns the whole page.
 */
export function settle(prev: Snapshot | null, next: Snapshot): Snapshot {
  if (!prev) return next;
  let components = next.components;
  if (next.componentsListed === 'affected') {
    const named = new Set(next.components.map((c) => c.id));
    const back = prev.components.filter((c) => !named.has(c.id)).map((c): ComponentState => ({ ...c, status: 'operational' }));
    components = [...next.components, ...back];
  }
  const keepScope = (was: EventState[], now: EventState[]) => {
    const before = new Map(was.map((e) => [e.id, e]));
    return now.map((e) => {
      const old = before.get(e.id);
      return old ? { ...e, components: mergeScope(old.components, e.components) } : e;
    });
  };
  return { ...next, components, incidents: keepScope(prev.incidents, next.incidents), maintenances: keepScope(prev.maintenances, next.maintenances) };
}

/** Two views of what an event affects, together; none named (the whole page) wins. */
export const mergeScope = (a: string[], b: string[]): string[] => (a.length === 0 || b.length === 0 ? [] : [...new Set([...a, ...b])]);

const words = (status: string) => status.replace(/_/g, ' ');

export function diffSnapshots(prev: Snapshot | null, next: Snapshot, pageName: string): Change[] {
  const out: Change[] = [];

  if (next.page && (prev === null || prev.page?.status !== next.page.status)) {
    const status = next.page.status;
    out.push({
      subject_kind: 'page',
      subject_id: 'page',
      subject_name: pageName,
      from_status: prev?.page?.status ?? null,
      to_status: status,
      degraded: status !== 'none',
      impact: impactOfWord(status),
      message: next.page.description,
      url: '',
      updated_at: '',
      components: [],
    });
  }

  const before = new Map(prev?.components.map((c) => [c.id, c]));
  for (const c of next.components) {
    // A component incident.io did not name before was operational then; on a full list, a new one has no past.
    const from = before.get(c.id)?.status ?? (prev && next.componentsListed === 'affected' ? 'operational' : null);
    if (from === c.status) continue;
    out.push({
      subject_kind: 'component',
      subject_id: c.id,
      subject_name: c.name,
      from_status: from,
      to_status: c.status,
      degraded: c.status !== 'operational',
      impact: impactOfComponentStatus(c.status),
      message: from === null ? `${c.name}: ${words(c.status)}` : `${c.name}: ${words(from)} → ${words(c.status)}`,
      url: '',
      updated_at: c.updated_at ?? '',
      components: c.group ? [c.name, c.group] : [c.name],
    });
  }

  out.push(...eventChanges('incident', prev?.incidents ?? null, next.incidents, next.closed ?? []));
  out.push(...eventChanges('maintenance', prev?.maintenances ?? null, next.maintenances, next.closed ?? []));
  return out;
}

/** Opened (new), updated (a new state, impact or update), and resolved or completed (gone from the open list). */
function eventChanges(kind: 'incident' | 'maintenance', prev: EventState[] | null, next: EventState[], closed: EventState[]): Change[] {
  const out: Change[] = [];
  const before = new Map(prev?.map((e) => [e.id, e]));
  const degraded = (status: string) => (kind === 'incident' ? true : isActiveMaintenance(status));
  for (const e of next) {
    const was = before.get(e.id);
    if (was && was.status === e.status && was.updated_at === e.updated_at && was.impact === e.impact) continue;
    out.push({ ...eventFields(kind, e), from_status: was?.status ?? null, degraded: degraded(e.status) });
  }
  const open = new Set(next.map((e) => e.id));
  for (const was of prev ?? []) {
    if (open.has(was.id)) continue;
    const end = closed.find((c) => c.id === was.id);
    const to = end?.status ?? (kind === 'incident' ? 'resolved' : 'completed');
    const fields = eventFields(kind, end ? { ...end, components: mergeScope(was.components, end.components) } : was);
    out.push({
      ...fields,
      to_status: to,
      from_status: was.status,
      degraded: false,
      message: end ? end.message : `No longer listed among the page's ${kind === 'incident' ? 'unresolved incidents' : 'maintenances'}`,
      updated_at: end?.updated_at ?? '',
    });
  }
  return out;
}

function eventFields(kind: 'incident' | 'maintenance', e: EventState): Omit<Change, 'from_status' | 'degraded'> {
  return {
    subject_kind: kind,
    subject_id: e.id,
    subject_name: e.name,
    to_status: e.status,
    impact: e.impact,
    message: e.message,
    url: e.url,
    updated_at: e.updated_at,
    components: e.components,
  };
}

const norm = (name: string) => name.trim().toLowerCase();

/**
 * The tenant's services a change concerns. A dependent with no component
 * list takes everything the page says. One with a list takes the changes
 * that name one of its components (or their group), and incidents and
 * maintenances that name no component at all: the page does not say what
 * they affect, so they may affect it. The page's indicator only sums up the
 * components, which reach their dependents themselves: it goes to the first
 * kind only. None: [''], so the change is still kept for the page's current state.
 */
export function servicesFor(change: Pick<Change, 'subject_kind' | 'components'>, dependents: StatusPageParams['dependents']): string[] {
  const named = new Set(change.components.map(norm));
  const unscoped = change.components.length === 0 && change.subject_kind !== 'page';
  const services = dependents
    .filter((d) => !d.components || d.components.length === 0 || unscoped || d.components.some((c) => named.has(norm(c))))
    .map((d) => d.service);
  return services.length > 0 ? [...new Set(services)] : [''];
}

export interface RecordContext {
  tenant: string;
  jobId: string;
  provider: string;
  dependents: StatusPageParams['dependents'];
  /** The page's URL, for changes the provider gives no link for. */
  pageUrl: string;
  /** When this run saw the page; a repeated run after a crash reuses it (run.ts). */
  observedAt: number;
  /** When the previous snapshot was taken (null on a first run): stands in for a provider's time where it gives none. */
  since: number | null;
}

export function changeRecords(changes: Change[], rc: RecordContext): ExternalStatusChange[] {
  return changes.flatMap((c) =>
    servicesFor(c, rc.dependents).map(
      (service): ExternalStatusChange => ({
        change_id: changeId(rc, service, c),
        tenant: rc.tenant,
        service,
        job_id: rc.jobId,
        provider: rc.provider,
        subject_kind: c.subject_kind,
        subject_id: c.subject_id,
        subject_name: c.subject_name,
        from_status: c.from_status,
        to_status: c.to_status,
        degraded: c.degraded,
        impact: c.impact,
        message: c.message,
        url: c.url || rc.pageUrl,
        at: rc.observedAt,
      }),
    ),
  );
}

/**
 * Same job, service, subject, new state and the provider's time of it (or,
 * where it gives none, the previous snapshot's time, which a rerun after a
 * crash shares and a later flap does not): same id.
 */
function changeId(rc: RecordContext, service: string, c: Change): string {
  const when = c.updated_at || `seen-after:${rc.since ?? 'first-run'}`;
  const key = [rc.tenant, rc.jobId, service, c.subject_kind, c.subject_id, c.to_status, when].join('\u0000');
  return `esc_${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}
