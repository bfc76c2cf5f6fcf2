import { z } from 'zod';
import { readJsonBody } from './json-body.ts';
import { type ComponentState, type EventState, impactOfComponentStatus, isClosedStatus, isoDate, type Snapshot } from './snapshot.ts';

/**
 * incident.io's public status page widget API (`<page>/proxy/<page host>`,
 * unauthenticated, read-only). Shape taken from incident.io's help article
 * "Embed your status page's data into your own product" (three arrays:
 * ongoing_incidents, in_progress_maintenances, scheduled_maintenances, each
 * item with id, name, status, last update message and time, url, affected
 * components) and from public clients of it (PostHog's status side panel):
 *
 *   { page_title, page_url,
 *     ongoing_incidents: [{ id, name, status: investigating|identified|monitoring(|resolved),
 *                           url, last_update_at, last_update_message,
 *                           current_worst_impact: degraded_performance|partial_outage|full_outage,
 *                           affected_components: [{ id, name, group_name?, current_status }] }],
 *     in_progress_maintenances / scheduled_maintenances: [{ id, name,
 *                           status: maintenance_in_progress|maintenance_scheduled, url,
 *                           last_update_at, last_update_message, affected_components,
 *                           started_at?, scheduled_end_at?, starts_at?, ends_at? }] }
 *
 * The widget names only the components an incident or maintenance affects,
 * so the snapshot's components are "affected" ones: a component that leaves
 * the answer is operational again (changes.ts).
 */

const affected = z.looseObject({ id: z.string(), name: z.string(), group_name: z.string().nullish(), current_status: z.string().nullish() });

const event = z.looseObject({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  url: z.string().nullish(),
  last_update_at: z.string().nullish(),
  last_update_message: z.string().nullish(),
  current_worst_impact: z.string().nullish(),
  affected_components: z.array(affected).nullish(),
});

export const incidentIoWidget = z.looseObject({
  page_title: z.string().nullish(),
  page_url: z.string().nullish(),
  ongoing_incidents: z.array(event),
  in_progress_maintenances: z.array(event).nullish(),
  scheduled_maintenances: z.array(event).nullish(),
});
export type IncidentIoWidget = z.infer<typeof incidentIoWidget>;

/** The widget URL: the one given when it is one (`/proxy/…` or `/api/…`), else `<origin>/proxy/<host>` of the page. */
export function incidentIoUrl(url: string): string {
  const u = new URL(url);
  if (/\/(proxy|api)\//.test(u.pathname)) return url;
  return `${u.origin}/proxy/${u.host}`;
}

export const looksLikeIncidentIo = (v: unknown): boolean => incidentIoWidget.safeParse(v).success;

export function parseIncidentIo(text: string): Snapshot {
  return incidentIoSnapshot(readJsonBody(text, incidentIoWidget, 'incident_io'));
}

// Worst first, so that a component named by two events keeps the worse state.
const SEVERITY = ['full_outage', 'major_outage', 'partial_outage', 'degraded_performance', 'under_maintenance', 'operational'];
const rank = (status: string) => {
  const i = SEVERITY.indexOf(status);
  return i === -1 ? SEVERITY.indexOf('degraded_performance') : i;
};

export function incidentIoSnapshot(w: IncidentIoWidget): Snapshot {
  const components = new Map<string, ComponentState>();
  const note = (list: z.infer<typeof affected>[] | null | undefined, fallback: string) => {
    for (const c of list ?? []) {
      const status = c.current_status || fallback;
      const known = components.get(c.id);
      if (known && rank(known.status) <= rank(status)) continue;
      components.set(c.id, { id: c.id, name: c.name, status, ...(c.group_name ? { group: c.group_name } : {}) });
    }
  };

  const toEvent = (e: z.infer<typeof event>, impact: EventState['impact']): EventState => ({
    id: e.id,
    name: e.name,
    status: e.status,
    impact,
    updated_at: isoDate(e.last_update_at),
    url: e.url ?? '',
    message: e.last_update_message ?? '',
    components: [...new Set((e.affected_components ?? []).flatMap((c) => (c.group_name ? [c.name, c.group_name] : [c.name])))],
  });

  const incidents = w.ongoing_incidents.map((i) => toEvent(i, impactOfComponentStatus(i.current_worst_impact ?? 'degraded_performance')));
  for (const i of w.ongoing_incidents) if (!isClosedStatus(i.status)) note(i.affected_components, i.current_worst_impact ?? 'degraded_performance');
  for (const m of w.in_progress_maintenances ?? []) note(m.affected_components, 'under_maintenance');
  const maintenances = [...(w.in_progress_maintenances ?? []), ...(w.scheduled_maintenances ?? [])].map((m) => toEvent(m, 'maintenance'));

  return {
    page: null,
    components: [...components.values()],
    componentsListed: 'affected',
    incidents: incidents.filter((i) => !isClosedStatus(i.status)),
    maintenances,
    closed: incidents.filter((i) => isClosedStatus(i.status)),
  };
}
