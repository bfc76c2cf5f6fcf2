import { AutopilotError } from '../../../lib/errors.ts';
import type { ExternalStatusChange } from '../../../schemas/topics.ts';

/**
 * A third-party status page read into one shape, whatever the provider:
 * what `changes.ts` compares run to run and what the job keeps in its state.
 * Statuses stay in the provider's own words (operational,
 * degraded_performance, investigating, in_progress…); `impact` and
 * `degraded` are derived from those words here, in one place.
 */
export interface Snapshot {
  /** The page's overall indicator, where the provider states one (Statuspage; the model's reading of a page); null otherwise. */
  page: { status: string; description: string } | null;
  components: ComponentState[];
  /**
   * 'all': the page lists every component (Statuspage), so one that is gone was removed.
   * 'affected': only components named by an ongoing incident are listed (incident.io's widget),
   * so one that is gone is operational again.
   */
  componentsListed: 'all' | 'affected';
  /** Unresolved incidents only: one that leaves this list is resolved. */
  incidents: EventState[];
  /** Scheduled and in-progress maintenances: one that leaves this list is completed. */
  maintenances: EventState[];
  /**
   * Incidents and maintenances the document shows as already closed (a feed
   * keeps its resolved items): where a resolution's own words come from. Not kept between runs.
   */
  closed?: EventState[];
}

export interface ComponentState {
  id: string;
  name: string;
  status: string;
  /** The group the page shows it under, if any: a dependent may name the group. */
  group?: string;
  updated_at?: string;
}

export interface EventState {
  id: string;
  name: string;
  status: string;
  impact: Impact;
  /** The provider's time of the latest update (ISO 8601), '' when it gives none. */
  updated_at: string;
  url: string;
  /** The latest update's text. */
  message: string;
  /**
   * Names (and groups) of the components it affects, as the page shows them,
   * gathered over its life (changes.ts `settle`); empty when the page does not say.
   */
  components: string[];
}

export type Impact = ExternalStatusChange['impact'];

export const emptySnapshot = (componentsListed: Snapshot['componentsListed']): Snapshot => ({
  page: null,
  components: [],
  componentsListed,
  incidents: [],
  maintenances: [],
});

// Component words: Statuspage's (operational, degraded_performance, partial_outage, major_outage, under_maintenance) and incident.io's (full_outage).
const COMPONENT_IMPACT: Record<string, Impact> = {
  operational: 'none',
  degraded_performance: 'minor',
  partial_outage: 'major',
  major_outage: 'critical',
  full_outage: 'critical',
  under_maintenance: 'maintenance',
};

/** A component's (or incident.io impact's) word as an impact; a word we do not know is at least minor, never silently none. */
export const impactOfComponentStatus = (status: string): Impact => COMPONENT_IMPACT[status] ?? 'minor';

const IMPACTS = new Set<string>(['none', 'minor', 'major', 'critical', 'maintenance']);
/** Statuspage's incident impact and page indicator already use the schema's words. */
export const impactOfWord = (word: string | null | undefined, fallback: Impact = 'minor'): Impact => (word && IMPACTS.has(word) ? (word as Impact) : fallback);

/** Words that close an incident (Statuspage, incident.io, feeds' "Resolved" / "Completed" updates). */
const CLOSED_WORDS = new Set(['resolved', 'postmortem', 'completed', 'closed']);
export const isClosedStatus = (status: string): boolean => CLOSED_WORDS.has(status);

/** A maintenance under way (Statuspage: in_progress, verifying; incident.io: maintenance_in_progress). */
export const isActiveMaintenance = (status: string): boolean => ['in_progress', 'verifying', 'maintenance_in_progress'].includes(status);

/** A provider's word as one token: "In progress" → in_progress. */
export const statusWord = (text: string): string =>
  text
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');

/** A stable id for things a source names but does not number (a model's reading of a page). */
export const slugId = (name: string): string => statusWord(name) || 'unnamed';

/** An ISO 8601 time from a provider's date text (RFC 822 in RSS, ISO in Atom and JSON); the text as given when it does not parse. */
export function isoDate(text: string | undefined | null): string {
  if (!text) return '';
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}

/** What the job keeps between runs: no `closed` list. */
export function storable(s: Snapshot): Snapshot {
  const { closed: _closed, ...kept } = s;
  return kept;
}

/** A body that is not what its format says: the run fails, and says why. Not retriable: the same body will not parse better. */
export const unreadable = (format: string, why: string, details?: Record<string, unknown>): AutopilotError =>
  new AutopilotError('bad_request', `status page is not readable as ${format}: ${why}`, { details: { format, ...details } });
