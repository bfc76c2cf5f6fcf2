import type { Tool, ToolContext } from '../tool.ts';
import { alerts } from './alerts.ts';
import { anomalies } from './anomalies.ts';
import { deployments } from './deployments.ts';
import { externalStatus } from './external-status.ts';
import { githubActivity } from './github.ts';
import { getIncident, listIncidents } from './incidents.ts';
import { logs } from './logs.ts';
import { listMetrics, metricSeries } from './metrics.ts';
import { listServices } from './services.ts';
import { topServices } from './top-services.ts';

/**
 * The assistant's tools over Autopilot's ClickHouse data, each reading only
 * the caller's tenant (ToolContext.tenant) with parameterised queries.
 * `github_activity` reaches outside and is offered only when GitHub is
 * configured: `toolsFor` is the list for one message.
 */
export const TOOLS: Tool[] = [
  listServices,
  listMetrics,
  metricSeries,
  topServices,
  listIncidents,
  getIncident,
  anomalies,
  logs,
  deployments,
  alerts,
  externalStatus,
];

export const GITHUB_TOOL: Tool = githubActivity;

/** The tools a message may use: TOOLS, and github_activity when `ctx.github` is set. */
export const toolsFor = (ctx: Pick<ToolContext, 'github'>): Tool[] => (ctx.github ? [...TOOLS, GITHUB_TOOL] : TOOLS);
