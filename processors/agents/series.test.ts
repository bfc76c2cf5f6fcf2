import { describe, expect, it } from 'vitest';
import type { AgentCall, MetricRollup } from '../../schemas/topics.ts';
import type { StoredRule } from '../../tenant-config/alert-rules.ts';
import { parseRule } from '../../tenant-config/alert-rules.ts';
import { matchesRollup } from '../alert/evaluate.ts';
import { samplesOf } from './series.ts';

const call = (over: Partial<AgentCall> = {}): AgentCall => ({
  event_id: 'e1',
  tenant: 't',
  agent: 'planner',
  model: 'gpt-4o',
  provider: 'openai',
  operation: 'chat',
  started_at: 10_000,
  duration_ms: 1200,
  input_tokens: 1000,
  output_tokens: 500,
  cached_input_tokens: 0,
  cost: 0.01,
  cost_source: 'price_table',
  price_version: 0,
  status: 'ok',
  error_type: null,
  session_id: null,
  trace_id: '',
  span_id: '',
  source: 'api',
  attributes: {},
  ...over,
});

/** A rollup of `point`'s series, as the rollup processor would close it. */
const rollupOf = (p: { tenant: string; metric_name: string; labels: Record<string, string> }): MetricRollup => ({
  tenant: p.tenant,
  service: p.labels.service!,
  metric_name: p.metric_name,
  labels: p.labels,
  window_start: 0,
  window_end: 60_000,
  count: 1,
  sum: 1,
  min: 1,
  max: 1,
  p50: 1,
  p90: 1,
  p95: 1,
  p99: 1,
});

const rule = (body: object): StoredRule =>
  ({
    ...parseRule({ name: 'r', kind: 'threshold', field: 'p95', op: 'gt', value: 1, for: '0s', ...body }),
    id: 'r',
    tenant: 't',
    created_at: 0,
    updated_at: 0,
  }) as StoredRule;

describe('the series of an agent call', () => {
  it('is five measures in three groupings, at the call end (start + duration), labels sorted', () => {
    const points = samplesOf(call({ status: 'error' }));
    expect(points).toHaveLength(15);
    expect(new Set(points.map((p) => p.timestamp))).toEqual(new Set([11_200]));
    const byName = Object.fromEntries(points.map((p) => [p.metric_name, p]));
    expect(byName.llm_agent_duration_ms).toMatchObject({ value: 1200, labels: { agent: 'planner', service: 'planner' } });
    expect(byName.llm_model_duration_ms).toMatchObject({ value: 1200, labels: { model: 'gpt-4o', service: 'gpt-4o' } });
    expect(byName.llm_agent_model_duration_ms).toMatchObject({ value: 1200, labels: { agent: 'planner', model: 'gpt-4o', service: 'planner' } });
    expect(byName.llm_agent_error!.value).toBe(1);
    expect(byName.llm_model_cost_usd!.value).toBe(0.01);
    expect(byName.llm_agent_model_input_tokens!.value).toBe(1000);
    expect(byName.llm_agent_output_tokens!.value).toBe(500);
    for (const p of points) expect(Object.keys(p.labels)).toEqual(Object.keys(p.labels).sort());
  });

  it('has no cost sample when the cost is unknown, and error 0 for a call that succeeded', () => {
    const points = samplesOf(call({ cost: null, cost_source: 'unknown' }));
    expect(points).toHaveLength(12);
    expect(points.some((p) => p.metric_name.endsWith('_cost_usd'))).toBe(false);
    expect(points.filter((p) => p.metric_name.endsWith('_error')).map((p) => p.value)).toEqual([0, 0, 0]);
  });

  it('lets an alert rule target one agent over all models, one model over all agents, or one pair, and nothing else', () => {
    const series = samplesOf(call()).filter((p) => p.metric_name.endsWith('_duration_ms'));
    const matched = (r: StoredRule) => series.filter((p) => matchesRollup(r, rollupOf(p))).map((p) => p.metric_name);
    expect(matched(rule({ service: 'planner', metric: 'llm_agent_duration_ms' }))).toEqual(['llm_agent_duration_ms']);
    expect(matched(rule({ service: 'gpt-4o', metric: 'llm_model_duration_ms' }))).toEqual(['llm_model_duration_ms']);
    expect(matched(rule({ service: 'planner', metric: 'llm_agent_model_duration_ms', labels: { model: 'gpt-4o' } }))).toEqual(['llm_agent_model_duration_ms']);
    expect(matched(rule({ service: 'planner', metric: 'llm_agent_model_duration_ms', labels: { model: 'claude-sonnet-4' } }))).toEqual([]);
  });
});
