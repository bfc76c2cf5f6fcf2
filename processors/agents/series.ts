import { sortKeys } from '../../lib/labels.ts';
import type { AgentCall, MetricPoint } from '../../schemas/topics.ts';

/**
 * The metric series an agent call becomes, so the rollup's windows (count,
 * sum, avg, P50/P95/P99 from the same DDSketches), detection, alert rules
 * and correlation see agents and models as they see any service: no code
 * path of their own. One sample per call and measure, at the call's end
 * (started_at + duration_ms, as a latency histogram observes a request when
 * it completes): a call is reported only once it ends, and an agent
 * invocation of minutes stamped at its start would arrive after its rollup
 * window closed (ROLLUP_LATENESS_MS, 30 s) and miss the very P95 it makes.
 *
 * Measures (one metric name each, per grouping):
 *   *_duration_ms      the call's duration
 *   *_input_tokens     input tokens (cached ones included)
 *   *_output_tokens    output tokens
 *   *_cost_usd         its cost; no sample when the cost is unknown
 *   *_error            1 for a failed call, 0 for one that succeeded: a
 *                      window's avg is the error rate (1 − avg the success
 *                      rate), its count the calls, its sum the errors
 *
 * Groupings, each its own metric name prefix, so an alert rule's exact-match
 * labels can never mix them:
 *   llm_agent_*        per agent over all its models; service = the agent,
 *                      labels {agent}
 *   llm_model_*        per model over all agents; service = the model,
 *                      labels {model}
 *   llm_agent_model_*  per (agent, model); service = the agent, labels
 *                      {agent, model}
 *
 * So "agent X's P95 over all models" is the rule {service: X, metric:
 * llm_agent_duration_ms, field: p95}; "model Y's P95" is {service: Y,
 * metric: llm_model_duration_ms, field: p95}; one pair is {service: X,
 * metric: llm_agent_model_duration_ms, labels: {model: Y}}. An agent is
 * correlated with its service's deployments when it is named after it
 * (the gateway falls back to the span's service.name); a model is its own
 * service, as a dependency every agent shares.
 *
 * Exactly once by content: a call's samples are its own values at its own
 * end time, and the rollup counts a series' sample once per timestamp, so
 * a replayed call changes nothing. The same rule means two calls of one
 * series ending in the same millisecond count once in the windows
 * (agent_calls and GET /v1/agents/stats count both).
 */
export const GROUPINGS = ['agent', 'model', 'agent_model'] as const;
export const MEASURES = ['duration_ms', 'input_tokens', 'output_tokens', 'cost_usd', 'error'] as const;
export type Grouping = (typeof GROUPINGS)[number];
export type Measure = (typeof MEASURES)[number];

export const metricName = (grouping: Grouping, measure: Measure) => `llm_${grouping}_${measure}`;

/** The service and labels of a call's series in one grouping. */
export function seriesLabels(grouping: Grouping, call: Pick<AgentCall, 'agent' | 'model'>): Record<string, string> {
  if (grouping === 'agent') return sortKeys({ agent: call.agent, service: call.agent });
  if (grouping === 'model') return sortKeys({ model: call.model, service: call.model });
  return sortKeys({ agent: call.agent, model: call.model, service: call.agent });
}

/** When a call ended, in whole ms: the time of its samples. */
export const endOf = (call: Pick<AgentCall, 'started_at' | 'duration_ms'>) => Math.round(call.started_at + call.duration_ms);

/** The samples of one call: every measure in every grouping (cost only when known). */
export function samplesOf(call: AgentCall): MetricPoint[] {
  const values: [Measure, number | null][] = [
    ['duration_ms', call.duration_ms],
    ['input_tokens', call.input_tokens],
    ['output_tokens', call.output_tokens],
    ['cost_usd', call.cost],
    ['error', call.status === 'ok' ? 0 : 1],
  ];
  const points: MetricPoint[] = [];
  for (const grouping of GROUPINGS) {
    const labels = seriesLabels(grouping, call);
    for (const [measure, value] of values) {
      if (value === null || !Number.isFinite(value)) continue;
      points.push({ tenant: call.tenant, timestamp: endOf(call), metric_name: metricName(grouping, measure), value, labels });
    }
  }
  return points;
}
