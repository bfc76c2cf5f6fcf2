import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Tool, ToolContext, ToolResult } from '../../assistant/tool.ts';
import { keyMapping, valueBuckets } from '../../processors/runtime/sketch.ts';
import { type ClickHouseClient, createClickHouse } from '../../sql/client.ts';
import { migrate } from '../../sql/migrate.ts';

/**
 * Rows for the assistant's tools, written straight into an embedded
 * ClickHouse as the sink and the processors write them (JSONEachRow, times
 * in epoch ms), and a way to call a tool as the runner does (arguments
 * through its schema first).
 */
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

export async function openClickHouse(name: string): Promise<ClickHouseClient> {
  const ch = await createClickHouse({ dataDir: mkdtempSync(path.join(tmpdir(), `autopilot-${name}-`)) });
  await migrate(ch);
  return ch;
}

export const toolContext = (ch: ClickHouseClient, tenant: string, now: number, over: Partial<ToolContext> = {}): ToolContext => ({
  tenant,
  ch,
  now,
  maxRows: 50,
  signal: new AbortController().signal,
  ...over,
});

/** The tool's result for `args` as a model would send them: parsed by the tool's schema, which throws on bad ones. */
export const callTool = (tool: Tool, args: unknown, ctx: ToolContext): Promise<ToolResult> => tool.run(tool.args.parse(args), ctx);

let offset = 0;
const insert = (ch: ClickHouseClient, table: string, values: Record<string, unknown>[]) => ch.insert({ table, format: 'JSONEachRow', values });
const position = () => ({ kafka_partition: 0, kafka_offset: offset++ });

/** The rollup processor's relative accuracy (processors/runtime/window-config.ts). */
const MAPPING = keyMapping(0.005);

/** The value at rank ⌊q·(n−1)⌋ of the sorted values: what a sketch's percentile approximates within its accuracy. */
export function rankValue(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

/** One closed 1-min window per entry, as the rollup processor writes it (the hourly table fills by materialized view). */
export async function insertRollups(
  ch: ClickHouseClient,
  tenant: string,
  service: string,
  metric: string,
  windows: { start: number; values: number[] }[],
  labels: Record<string, string> = { route: '/pay' },
): Promise<void> {
  await insert(
    ch,
    'metric_rollups',
    windows.map(({ start, values }) => ({
      tenant,
      service,
      metric_name: metric,
      labels: { service, ...labels },
      window_start: start,
      window_end: start + MIN,
      count: values.length,
      sum: values.reduce((a, b) => a + b, 0),
      min: Math.min(...values),
      max: Math.max(...values),
      p50: rankValue(values, 0.5),
      p90: rankValue(values, 0.9),
      p95: rankValue(values, 0.95),
      p99: rankValue(values, 0.99),
      sketch: Object.fromEntries(valueBuckets(values, MAPPING)),
      sketch_gamma: MAPPING.gamma,
    })),
  );
}

export const insertLogs = (
  ch: ClickHouseClient,
  tenant: string,
  lines: { service: string; level: string; at: number; message: string; labels?: Record<string, string> }[],
) =>
  insert(
    ch,
    'log_entries',
    lines.map((l) => ({ tenant, service: l.service, level: l.level, timestamp: l.at, message: l.message, labels: l.labels ?? {}, ...position() })),
  );

export const insertDeployments = (
  ch: ClickHouseClient,
  tenant: string,
  list: { service: string; version: string; at: number; status?: string; metadata?: Record<string, string> }[],
) =>
  insert(
    ch,
    'deployments',
    list.map((d) => ({
      tenant,
      service: d.service,
      version: d.version,
      timestamp: d.at,
      status: d.status ?? 'succeeded',
      metadata: d.metadata ?? {},
      ...position(),
    })),
  );

export const insertAnomalies = (
  ch: ClickHouseClient,
  tenant: string,
  list: { id: string; service: string; metric: string; at: number; severity: string; value: number; baseline: number; z: number; kind?: string }[],
) =>
  insert(
    ch,
    'anomalies',
    list.map((a) => ({
      anomaly_id: a.id,
      tenant,
      service: a.service,
      metric_name: a.metric,
      labels: { service: a.service },
      kind: a.kind ?? 'level',
      current_value: a.value,
      baseline_mean: a.baseline,
      baseline_std_dev: a.baseline / 10,
      baseline_median: a.baseline,
      z_score: a.z,
      deviation_percent: ((a.value - a.baseline) / a.baseline) * 100,
      severity: a.severity,
      level_shift: false,
      detected_at: a.at,
      source_topic: 'autopilot.metric-batches',
      source_partition: 0,
      source_offset: offset++,
      p_value: 1e-7,
      anomaly_score: 0.875,
    })),
  );

export interface IncidentInput {
  id: string;
  service: string;
  version?: number;
  status: 'open' | 'resolved';
  severity: string;
  opened_at: number;
  updated_at?: number;
  resolved_at?: number | null;
  signals: { id: string; kind: string; at: number; summary: string; severity: string | null }[];
  suspect?: { id: string; version: string; minutes_before: number } | null;
}

export const insertIncidents = (ch: ClickHouseClient, tenant: string, list: IncidentInput[]) =>
  insert(
    ch,
    'incidents',
    list.map((i) => ({
      incident_id: i.id,
      tenant,
      service: i.service,
      version: i.version ?? 1,
      status: i.status,
      severity: i.severity,
      opened_at: i.opened_at,
      updated_at: i.updated_at ?? i.signals.at(-1)?.at ?? i.opened_at,
      resolved_at: i.resolved_at ?? null,
      signals: JSON.stringify(i.signals),
      signal_count: i.signals.length,
      suspect_deployment: i.suspect?.id ?? null,
      suspect_version: i.suspect?.version ?? null,
      suspect_minutes_before: i.suspect?.minutes_before ?? null,
    })),
  );

export const insertAnalyses = (
  ch: ClickHouseClient,
  tenant: string,
  list: {
    id: string;
    incident: string;
    service: string;
    at: number;
    source: 'llm' | 'rules';
    root_cause: string;
    confidence: number;
    actions?: { action: string; reasoning: string; risk: string; priority: number }[];
  }[],
) =>
  insert(
    ch,
    'analyses',
    list.map((a) => ({
      analysis_id: a.id,
      incident_id: a.incident,
      tenant,
      service: a.service,
      source: a.source,
      model: a.source === 'llm' ? 'llama3.2:3b' : null,
      prompt_name: 'incident-analysis',
      prompt_version: 1,
      experiment_id: null,
      variant: null,
      fallback_reason: a.source === 'rules' ? 'unreachable' : null,
      duration_ms: 1200,
      created_at: a.at,
      root_cause: a.root_cause,
      root_cause_confidence: a.confidence,
      root_cause_reasoning: `because: ${a.root_cause}`,
      recommended_actions: JSON.stringify(a.actions ?? []),
      severity: 'high',
      estimated_customer_impact: 'checkouts slow',
      incident_opened_at: a.at - 5 * MIN,
    })),
  );

export const insertAlerts = (
  ch: ClickHouseClient,
  tenant: string,
  list: {
    fingerprint: string;
    name: string;
    service: string;
    status: 'firing' | 'resolved';
    starts_at: number;
    received_at: number;
    ends_at?: number;
    summary?: string;
  }[],
) =>
  insert(
    ch,
    'alerts',
    list.map((a) => ({
      alert_id: `${a.fingerprint}:${a.status}:${a.starts_at}`,
      tenant,
      service: a.service,
      source: 'alertmanager',
      alert_name: a.name,
      status: a.status,
      severity: 'critical',
      fingerprint: a.fingerprint,
      labels: { alertname: a.name, service: a.service },
      annotations: a.summary ? { summary: a.summary } : {},
      starts_at: a.starts_at,
      ends_at: a.ends_at ?? null,
      received_at: a.received_at,
      generator_url: null,
      rule_id: null,
      value: null,
    })),
  );

export const insertStatusChanges = (
  ch: ClickHouseClient,
  tenant: string,
  list: {
    provider: string;
    subject: string;
    service: string;
    at: number;
    to: string;
    from?: string | null;
    degraded: boolean;
    impact: string;
    message?: string;
  }[],
) =>
  insert(
    ch,
    'external_status_changes',
    list.map((s) => ({
      tenant,
      provider: s.provider,
      subject_kind: 'component',
      subject_id: `${s.provider}-${s.subject}`.toLowerCase(),
      at: s.at,
      service: s.service,
      change_id: `chg-${offset}`,
      job_id: 'job-status',
      subject_name: s.subject,
      from_status: s.from ?? null,
      to_status: s.to,
      degraded: s.degraded,
      impact: s.impact,
      message: s.message ?? '',
      url: `https://status.example/${s.provider}`,
      ...position(),
    })),
  );

/**
 * A fleet as the benchmarks see it, for each tenant: per service two hours
 * of 1-minute latency rollups (with a jump in the last 20 minutes), a
 * deployment 3 hours ago and one 20 minutes ago, 100 log lines (one in ten
 * an error), a critical anomaly, and an open incident for every fifth.
 */
export async function seedFleet(ch: ClickHouseClient, tenants: string[], services: string[], now: number): Promise<void> {
  for (const tenant of tenants) {
    for (const [i, service] of services.entries()) {
      const windows = Array.from({ length: 120 }, (_, w) => ({
        start: Math.floor((now - 2 * HOUR) / MIN) * MIN + w * MIN,
        values: Array.from({ length: 20 }, (_, k) => 100 + ((w * 7 + k * 13) % 40) + (w > 100 ? 1000 : 0)),
      }));
      await insertRollups(ch, tenant, service, 'http_request_duration_ms', windows);
      await insertDeployments(ch, tenant, [
        { service, version: `v1.${i}.0`, at: now - 3 * HOUR },
        { service, version: `v1.${i}.1`, at: now - 20 * MIN },
      ]);
      await insertLogs(
        ch,
        tenant,
        Array.from({ length: 100 }, (_, k) => ({
          service,
          level: k % 10 === 0 ? 'error' : 'info',
          at: now - k * 30_000,
          message: `GET /pay ${k % 10 === 0 ? 500 : 200}`,
        })),
      );
      await insertAnomalies(ch, tenant, [
        {
          id: `${tenant}-${service}-a`,
          service,
          metric: 'http_request_duration_ms',
          at: now - 18 * MIN,
          severity: 'critical',
          value: 1100,
          baseline: 120,
          z: 40,
        },
      ]);
      if (i % 5 === 0) {
        await insertIncidents(ch, tenant, [
          {
            id: `${tenant}-${service}-inc`,
            service,
            status: 'open',
            severity: 'critical',
            opened_at: now - 19 * MIN,
            signals: [{ id: `${tenant}-${service}-a`, kind: 'anomaly', at: now - 18 * MIN, summary: 'latency up', severity: 'critical' }],
            suspect: { id: 'dep', version: `v1.${i}.1`, minutes_before: 1 },
          },
        ]);
      }
    }
  }
}
