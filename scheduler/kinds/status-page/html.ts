import { AutopilotError } from '../../../lib/errors.ts';
import type { StatusPageParams } from '../../../tenant-config/jobs.ts';
import type { JobContext } from '../../context.ts';
import { extractText } from '../extract/extract-text.ts';
import { htmlText } from '../page-text.ts';
import { type EventState, impactOfWord, isClosedStatus, type Snapshot, slugId, unreadable } from './snapshot.ts';

/**
 * Format html: a status page with no API nor feed, read by the model into a
 * fixed status schema (the words Statuspage uses, so the rest of the job
 * treats the answer like any other provider's). Names are the only ids a
 * page gives, so components and incidents are known by their names.
 */

const COMPONENT_STATUSES = ['operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance'];

export const STATUS_SCHEMA = {
  type: 'object',
  properties: {
    indicator: {
      type: 'string',
      enum: ['none', 'minor', 'major', 'critical', 'maintenance'],
      description: 'Overall state: none when all systems are operational',
    },
    description: { type: 'string', description: "The page's own summary line, such as 'All Systems Operational'" },
    components: {
      type: 'array',
      items: {
        type: 'object',
        properties: { name: { type: 'string' }, status: { type: 'string', enum: COMPONENT_STATUSES } },
        required: ['name', 'status'],
      },
    },
    incidents: {
      type: 'array',
      description: 'Incidents and maintenances shown as current (not past ones)',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          status: { type: 'string', enum: ['investigating', 'identified', 'monitoring', 'resolved', 'scheduled', 'in_progress', 'completed'] },
          impact: { type: 'string', enum: ['none', 'minor', 'major', 'critical', 'maintenance'] },
          message: { type: 'string', description: 'The latest update, word for word' },
          updated_at: { type: 'string', description: 'When the latest update was posted, as the page writes it' },
          components: { type: 'array', items: { type: 'string' } },
        },
        required: ['name', 'status'],
      },
    },
  },
  required: ['indicator', 'components', 'incidents'],
} as const;

interface StatusAnswer {
  indicator: string;
  description?: string;
  components: { name: string; status: string }[];
  incidents: { name: string; status: string; impact?: string; message?: string; updated_at?: string; components?: string[] }[];
}

const INSTRUCTIONS =
  'This is the text of a service status page. Report the overall state, every component with its current state, ' +
  'and every incident or maintenance the page shows as current or upcoming. Leave out the history of past incidents.';

export async function readHtmlStatus(html: string, params: StatusPageParams, ctx: Pick<JobContext, 'llm' | 'signal'>): Promise<Snapshot> {
  const text = htmlText(html);
  if (text === '') throw unreadable('html', 'the page has no text');
  const outcome = await extractText(
    text,
    {
      schema: STATUS_SCHEMA as unknown as Record<string, unknown>,
      instructions: INSTRUCTIONS,
      max_chars: 20_000,
      ...(params.model ? { model: params.model } : {}),
    },
    ctx,
  );
  if (outcome.status === 'model_unavailable') {
    throw new AutopilotError('unavailable', `status page could not be read: the model is unavailable (${outcome.error ?? 'no answer'})`, {
      details: { model: outcome.model },
    });
  }
  if (outcome.status !== 'ok') {
    throw unreadable('html', `the model's answer does not fit the status schema (${outcome.error ?? outcome.status})`, {
      raw_answer: outcome.raw_answer?.slice(0, 500),
    });
  }
  return htmlSnapshot(outcome.result as StatusAnswer);
}

export function htmlSnapshot(a: StatusAnswer): Snapshot {
  const events: (EventState & { maintenance: boolean })[] = a.incidents.map((i) => {
    const maintenance = ['scheduled', 'in_progress', 'completed'].includes(i.status) || i.impact === 'maintenance';
    return {
      id: slugId(i.name),
      name: i.name,
      status: i.status,
      impact: maintenance ? 'maintenance' : impactOfWord(i.impact),
      updated_at: i.updated_at ?? '',
      url: '',
      message: i.message ?? '',
      components: i.components ?? [],
      maintenance,
    };
  });
  const plain = ({ maintenance: _m, ...e }: EventState & { maintenance: boolean }): EventState => e;
  return {
    page: { status: impactOfWord(a.indicator, 'minor'), description: a.description ?? '' },
    components: a.components.map((c) => ({
      id: slugId(c.name),
      name: c.name,
      status: COMPONENT_STATUSES.includes(c.status) ? c.status : 'degraded_performance',
    })),
    componentsListed: 'all',
    incidents: events.filter((e) => !e.maintenance && !isClosedStatus(e.status)).map(plain),
    maintenances: events.filter((e) => e.maintenance && !isClosedStatus(e.status)).map(plain),
    closed: events.filter((e) => isClosedStatus(e.status)).map(plain),
  };
}
