import { z } from 'zod';
import { readJsonBody } from './json-body.ts';
import { type ComponentState, type EventState, impactOfWord, isClosedStatus, isoDate, type Snapshot } from './snapshot.ts';

/**
 * Atlassian Statuspage's public `/api/v2/summary.json`: the page's
 * indicator (none, minor, major, critical, maintenance), every component
 * with its status, the unresolved incidents and the upcoming or active
 * scheduled maintenances, each with its updates newest first.
 */

const nullableText = z.string().nullish();

const component = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  /** true for a group container, whose status only sums up its children's. */
  group: z.boolean().nullish(),
  group_id: nullableText,
  updated_at: nullableText,
});

const update = z.looseObject({ status: z.string(), body: nullableText, created_at: nullableText, display_at: nullableText });

const event = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  impact: nullableText,
  updated_at: nullableText,
  shortlink: nullableText,
  incident_updates: z.array(update).nullish(),
  components: z.array(component).nullish(),
});

export const statuspageSummary = z.looseObject({
  page: z.looseObject({ id: z.string(), name: z.string(), url: nullableText }),
  status: z.looseObject({ indicator: z.string(), description: z.string() }),
  components: z.array(component),
  incidents: z.array(event).nullish(),
  scheduled_maintenances: z.array(event).nullish(),
});
export type StatuspageSummary = z.infer<typeof statuspageSummary>;

/** A URL for the summary: the one given when it already names a JSON document, else `<base>/api/v2/summary.json`. */
export function statuspageUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname.endsWith('.json')) return url;
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/api/v2/summary.json`;
  return u.toString();
}

/** True when a parsed JSON value looks like a Statuspage summary (for format auto). */
export const looksLikeStatuspage = (v: unknown): boolean => statuspageSummary.safeParse(v).success;

export function parseStatuspage(text: string): Snapshot {
  return statuspageSnapshot(readJsonBody(text, statuspageSummary, 'statuspage'));
}

export function statuspageSnapshot(s: StatuspageSummary): Snapshot {
  // Group containers are left out: their status is only their children's worst, and a
  // dependent that names the group still matches its children through `group`.
  const groupNames = new Map(s.components.filter((c) => c.group === true).map((c) => [c.id, c.name]));
  const components: ComponentState[] = s.components
    .filter((c) => c.group !== true)
    .map((c) => {
      const group = c.group_id ? groupNames.get(c.group_id) : undefined;
      return { id: c.id, name: c.name, status: c.status, ...(group ? { group } : {}), ...(c.updated_at ? { updated_at: c.updated_at } : {}) };
    });
  const pageUrl = (s.page.url ?? '').replace(/\/+$/, '');

  const toEvent = (e: z.infer<typeof event>, fallbackImpact: 'minor' | 'maintenance'): EventState => {
    const names = new Set<string>();
    for (const c of e.components ?? []) {
      names.add(c.name);
      const group = c.group_id ? groupNames.get(c.group_id) : undefined;
      if (group) names.add(group);
    }
    return {
      id: e.id,
      name: e.name,
      status: e.status,
      impact: impactOfWord(e.impact, fallbackImpact),
      updated_at: isoDate(e.updated_at),
      url: e.shortlink || (pageUrl ? `${pageUrl}/incidents/${e.id}` : ''),
      message: latestUpdate(e.incident_updates ?? [])?.body ?? '',
      components: [...names],
    };
  };

  const incidents = (s.incidents ?? []).map((i) => toEvent(i, 'minor'));
  const maintenances = (s.scheduled_maintenances ?? []).map((m) => toEvent(m, 'maintenance'));
  return {
    page: { status: s.status.indicator, description: s.status.description },
    components,
    componentsListed: 'all',
    incidents: incidents.filter((i) => !isClosedStatus(i.status)),
    maintenances: maintenances.filter((m) => !isClosedStatus(m.status)),
    closed: [...incidents, ...maintenances].filter((e) => isClosedStatus(e.status)),
  };
}

/** Statuspage lists updates newest first; the latest by time all the same, should an order ever differ. */
function latestUpdate<U extends { display_at?: string | null | undefined; created_at?: string | null | undefined }>(updates: U[]): U | undefined {
  const time = (u: U) => Date.parse(u.display_at ?? u.created_at ?? '');
  return updates.reduce<U | undefined>((best, u) => (best === undefined || time(u) > time(best) ? u : best), undefined);
}
