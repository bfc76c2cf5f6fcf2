import { z } from 'zod';
import { ANOMALY_SEVERITIES, scaleRank } from '../../lib/severity.ts';
import { isoTimeShort } from '../../lib/time.ts';
import { rangeArgs, resolveRange, showRange } from '../time-range.ts';
import { defineTool, type Evidence } from '../tool.ts';
import { badArgs, cut, freeText, limitArg, ms, refs, round, rowLimit, serviceArg, tenantRows } from './read.ts';

/**
 * Incidents as the correlator keeps them (`incidents FINAL`: each one's
 * current version) with their latest root-cause analysis: `incidents` lists
 * them, `incident` shows one with its timeline. A suspect deployment is
 * cited as `deployment:<service>:<version>`.
 */
const DAY = 24 * 3_600_000;

interface IncidentRow {
  incident_id: string;
  service: string;
  status: string;
  severity: string;
  opened_at: string;
  updated_at: string;
  resolved_at: string | null;
  signal_count: number;
  /** The deployment signal's id in the timeline. */
  suspect_deployment: string | null;
  suspect_version: string | null;
  suspect_minutes_before: number | null;
  root_cause: string;
  root_cause_confidence: number;
  analysis_source: string;
}

// Columns qualified where the SELECT's epoch-ms aliases would shadow them.
const COLUMNS = `incident_id, service, status, severity,
  toUnixTimestamp64Milli(incidents.opened_at) AS opened_at, toUnixTimestamp64Milli(incidents.updated_at) AS updated_at,
  toUnixTimestamp64Milli(incidents.resolved_at) AS resolved_at, signal_count, suspect_deployment, suspect_version, suspect_minutes_before`;

/** Each incident's latest analysis, this tenant's only ('' when not analysed: no join_use_nulls, see the mapping). */
const LATEST_ANALYSIS = `SELECT incident_id AS analysed_id, argMax(root_cause, created_at) AS root_cause,
  argMax(root_cause_confidence, created_at) AS root_cause_confidence, argMax(source, created_at) AS analysis_source
  FROM analyses FINAL WHERE tenant = {tenant:String} GROUP BY incident_id`;

const suspectOf = (r: Pick<IncidentRow, 'service' | 'suspect_version' | 'suspect_minutes_before'>) =>
  r.suspect_version
    ? { version: r.suspect_version, minutes_before_first_anomaly: r.suspect_minutes_before, ref: refs.deployment(r.service, r.suspect_version) }
    : null;

function summary(r: IncidentRow) {
  return {
    id: r.incident_id,
    ref: refs.incident(r.incident_id),
    service: r.service,
    status: r.status,
    severity: r.severity,
    opened_at: isoTimeShort(ms(r.opened_at)!),
    last_signal_at: isoTimeShort(ms(r.updated_at)!),
    resolved_at: r.resolved_at === null ? null : isoTimeShort(ms(r.resolved_at)!),
    signals: Number(r.signal_count),
    suspect_deployment: suspectOf(r),
    root_cause: r.root_cause ? freeText(r.root_cause, 400) : null,
    root_cause_confidence: r.root_cause ? round(r.root_cause_confidence) : null,
    analysis_source: r.analysis_source || null,
  };
}

function evidenceOf(i: ReturnType<typeof summary>): Evidence[] {
  const own = { ref: i.ref, label: `incident on ${i.service}, ${i.severity}, ${i.status}, opened ${i.opened_at}${i.root_cause ? `: ${i.root_cause}` : ''}` };
  const s = i.suspect_deployment;
  return s
    ? [
        own,
        {
          ref: s.ref,
          label: `${i.service} ${s.version}: the suspect deployment of incident ${i.id}, ${s.minutes_before_first_anomaly ?? '?'} min before its first anomaly`,
        },
      ]
    : [own];
}

export const listIncidents = defineTool({
  name: 'incidents',
  description:
    'Incidents active in a range (default the last 24h: open ones, and those resolved in the range), newest first: status, severity, service, when opened, ' +
    'the suspect deployment the correlator named, and the latest analysis root cause. Filter by service, status, minimum severity.',
  args: z.strictObject({
    service: serviceArg.optional(),
    status: z.enum(['open', 'resolved', 'any']).default('any'),
    severity: z.enum(ANOMALY_SEVERITIES).optional().describe('at least this severity'),
    ...rangeArgs('24h'),
    limit: limitArg,
  }),
  async run(args, ctx) {
    const range = resolveRange(args, ctx.now, { defaultMs: DAY, maxMs: 30 * DAY });
    const limit = rowLimit(ctx, args.limit);
    const severities = args.severity === undefined ? undefined : ANOMALY_SEVERITIES.filter((s) => scaleRank(s) >= scaleRank(args.severity!));
    const rows = await tenantRows<IncidentRow & { analysed_id: string }>(
      ctx,
      'incidents',
      `SELECT i.*, a.root_cause AS root_cause, a.root_cause_confidence AS root_cause_confidence, a.analysis_source AS analysis_source
         FROM (
           SELECT ${COLUMNS} FROM incidents FINAL
            WHERE tenant = {tenant:String}
              ${args.service === undefined ? '' : 'AND service = {service:String}'}
              ${args.status === 'any' ? '' : 'AND status = {status:String}'}
              ${severities === undefined ? '' : 'AND severity IN {severities:Array(String)}'}
              AND incidents.opened_at <= fromUnixTimestamp64Milli({to:Int64})
              AND (status = 'open' OR incidents.resolved_at >= fromUnixTimestamp64Milli({from:Int64}))
         ) AS i
         LEFT JOIN (${LATEST_ANALYSIS}) AS a ON a.analysed_id = i.incident_id
        ORDER BY i.opened_at DESC, i.incident_id DESC LIMIT {limit:UInt32}`,
      { service: args.service, status: args.status, severities, from: range.from, to: range.to, limit: limit + 1 },
    );
    const { items, truncated } = cut(rows, limit);
    const incidents = items.map(summary);
    return {
      data: { ...showRange(range), incidents },
      rows: incidents.length,
      truncated,
      evidence: incidents.flatMap(evidenceOf),
    };
  },
});

export const getIncident = defineTool({
  name: 'incident',
  description:
    'One incident by id: its state, the timeline of signals (anomalies, error spikes, alerts, deployments, third-party status) the correlator joined, ' +
    'the suspect deployment, and the latest analysis (root cause, reasoning, recommended actions, customer impact).',
  args: z.strictObject({ id: z.string().min(1).max(200).describe('incident id, as incidents lists it') }),
  async run(args, ctx) {
    const [row] = await tenantRows<IncidentRow & { analysed_id: string; signals_json: string }>(
      ctx,
      `incident ${args.id}`,
      `SELECT i.*, a.root_cause AS root_cause, a.root_cause_confidence AS root_cause_confidence, a.analysis_source AS analysis_source
         FROM (SELECT ${COLUMNS}, signals AS signals_json FROM incidents FINAL WHERE tenant = {tenant:String} AND incident_id = {id:String}) AS i
         LEFT JOIN (${LATEST_ANALYSIS}) AS a ON a.analysed_id = i.incident_id`,
      { id: args.id },
    );
    if (!row) throw badArgs(`no incident with id '${args.id}': the incidents tool lists them`);
    const [analysis] = await tenantRows<{
      root_cause_reasoning: string;
      recommended_actions: string;
      estimated_customer_impact: string;
      model: string | null;
      created_at: string;
    }>(
      ctx,
      `the analysis of incident ${args.id}`,
      `SELECT root_cause_reasoning, recommended_actions, estimated_customer_impact, model, toUnixTimestamp64Milli(created_at) AS created_at
         FROM analyses FINAL WHERE tenant = {tenant:String} AND incident_id = {id:String} ORDER BY analyses.created_at DESC LIMIT 1`,
      { id: args.id },
    );
    const limit = rowLimit(ctx);
    const signals = parseSignals(row.signals_json);
    const suspectAt = signals.find((s) => s.kind === 'deployment' && s.id === row.suspect_deployment)?.at;
    // The latest signals are kept when the timeline is longer than the row cap (the suspect is named above either way).
    const { items, truncated } = cut([...signals].reverse(), limit);
    const base = summary(row);
    const incident = {
      ...base,
      suspect_deployment: base.suspect_deployment && { ...base.suspect_deployment, at: suspectAt === undefined ? null : isoTimeShort(suspectAt) },
      timeline: items.reverse().map((s) => ({ at: isoTimeShort(s.at), kind: s.kind, severity: s.severity, summary: freeText(s.summary, 300) })),
      analysis: analysis
        ? {
            source: base.analysis_source,
            model: analysis.model,
            at: isoTimeShort(ms(analysis.created_at)!),
            root_cause: base.root_cause,
            confidence: base.root_cause_confidence,
            reasoning: freeText(analysis.root_cause_reasoning, 1000),
            recommended_actions: parseActions(analysis.recommended_actions),
            estimated_customer_impact: freeText(analysis.estimated_customer_impact, 300),
          }
        : null,
    };
    return { data: incident, rows: items.length, truncated, evidence: evidenceOf(base) };
  },
});

type Signal = { id: string; kind: string; at: number; summary: string; severity: string | null };

function parseSignals(json: string): Signal[] {
  try {
    const list = JSON.parse(json) as Signal[];
    return Array.isArray(list) ? list.sort((a, b) => a.at - b.at) : [];
  } catch {
    return [];
  }
}

function parseActions(json: string): { action: string; reasoning: string; risk: string; priority: number }[] {
  try {
    const list = JSON.parse(json) as { action: string; reasoning: string; risk: string; priority: number }[];
    return Array.isArray(list)
      ? list.map((a) => ({ action: freeText(String(a.action), 300), reasoning: freeText(String(a.reasoning ?? ''), 500), risk: a.risk, priority: a.priority }))
      : [];
  } catch {
    return [];
  }
}
