import type { ClickHouseClient } from '@clickhouse/client';
import type { Redis } from 'ioredis';
import type { Publisher } from '../../platform/publisher.ts';
import { DocumentStore } from '../../sql/stores/documents.ts';
import { PromptStore } from '../../sql/stores/prompts.ts';
import { TOPICS, type AgentEvent, type AnalysisRecord, type IncidentRecord } from '../../schemas/topics.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { analyzeIncident } from './analyze.ts';
import { analyzeConfig, type AnalyzeConfig } from './config.ts';
import { loadContext } from './context.ts';
import { assignVariant, type Experiment } from '../../tenant-config/experiments.ts';
import { askModel } from './llm.ts';
import { analystCallEvent } from './self-telemetry.ts';
import { DEFAULT_PROMPT, type PromptTemplate } from './prompt.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { analyzeTelemetry, type AnalyzeTelemetry } from './telemetry.ts';

/**
 * The analyze processor: each new incident gets one root-cause analysis, from
 * the model or, when the model fails, from the rules, published to
 * `autopilot.analyses` (the sink stores it; notify sends it). An incident is
 * analysed once, at the first version this group sees; a Redis marker set
 * after publishing says so. A crash in between analyses it again under the
 * same analysis id, which collapses downstream, and the notifier's cooldown
 * keeps people from hearing about it twice.
 *
 * The prompt is the tenant's version tagged `production` of ANALYZE_PROMPT,
 * or the built-in one; a running experiment on that prompt assigns each
 * incident a variant (and so a version) by the hash of its id.
 */
export function analyzeProcessor(deps: {
  clickhouse: ClickHouseClient;
  redis: Redis;
  publisher: Publisher;
  prompts: PromptStore;
  experiments: DocumentStore<Experiment>;
  config: AnalyzeConfig;
  telemetry: AnalyzeTelemetry;
  groupId: string;
}): ProcessorSpec {
  const doneKey = (incidentId: string) => `${deps.groupId}:analyzed:${incidentId}`;
  const DONE_TTL_SECONDS = 30 * 24 * 3600;
  const { config } = deps;

  /** The prompt for this incident, and the experiment arm that chose it if any. */
  async function promptFor(incident: IncidentRecord): Promise<{ prompt: PromptTemplate; experiment: { id: string; variant: string } | null }> {
    const running = (await deps.experiments.list(incident.tenant)).filter((e) => e.status === 'running' && e.definition.prompt === config.promptName).at(-1);
    if (running) {
      const variant = assignVariant({ ...running.definition, id: running.id }, incident.incident_id);
      const arm = { id: running.id, variant: variant.name };
      if (variant.prompt_version === 0) return { prompt: { ...DEFAULT_PROMPT, name: config.promptName }, experiment: arm };
      const version = await deps.prompts.version(incident.tenant, config.promptName, variant.prompt_version);
      if (version) return { prompt: version, experiment: arm };
    }
    const production = await deps.prompts.tagged(incident.tenant, config.promptName, 'production');
    return { prompt: production ?? { ...DEFAULT_PROMPT, name: config.promptName }, experiment: null };
  }

  /** The analysis, and (with AUTOPILOT_SELF_TENANT) the model calls it made as agent events of the self tenant. */
  async function analyze(incident: IncidentRecord): Promise<{ record: AnalysisRecord; calls: AgentEvent[] }> {
    const { prompt, experiment } = await promptFor(incident);
    const calls: AgentEvent[] = [];
    const selfTenant = config.selfTenant;
    const onCall =
      selfTenant === undefined ? undefined : (call: Parameters<typeof analystCallEvent>[1]) => calls.push(analystCallEvent(selfTenant, call, incident));
    const record = await analyzeIncident(incident, {
      loadContext: () => loadContext(deps.clickhouse, incident),
      prompt,
      experiment,
      ask: (text) => askModel({ host: config.ollamaHost, model: config.model, prompt: text, timeoutMs: config.timeoutMs, retries: config.retries, onCall }),
      now: () => Date.now(),
      maxContextBytes: config.maxContextBytes,
    });
    deps.telemetry.analysisSeconds.observe({ source: record.source }, record.duration_ms / 1000);
    if (record.fallback_reason) deps.telemetry.analysisFallbacks.inc({ reason: record.fallback_reason });
    return { record, calls };
  }

  const handle = async (batch: Decoded[]) => {
    // The first version of each incident in the batch; later ones of an incident already analysed are skipped.
    const firsts = new Map<string, IncidentRecord>();
    for (const d of batch) {
      const incident = d.value as IncidentRecord;
      if (!firsts.has(incident.incident_id)) firsts.set(incident.incident_id, incident);
    }
    const ids = [...firsts.keys()];
    const seen = await deps.redis.mget(ids.map(doneKey));
    const todo = ids.filter((_, i) => seen[i] === null).map((id) => firsts.get(id)!);
    const results = await mapLimit(todo, config.concurrency, analyze);
    const analyses = results.map((r) => r.record);
    // One acknowledged send: the analyses, and the model calls behind them for the agents processor.
    await deps.publisher.publishAll([
      { kind: 'analyses', records: analyses },
      { kind: 'agentEvents', records: results.flatMap((r) => r.calls) },
    ]);
    if (analyses.length) {
      const tx = deps.redis.multi();
      for (const a of analyses) tx.set(doneKey(a.incident_id), a.analysis_id, 'EX', DONE_TTL_SECONDS);
      await tx.exec();
    }
    return { rejected: [] };
  };

  return { name: 'analyze', groupId: deps.groupId, topics: [TOPICS.incidents.topic], handle };
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const analyze = defineProcessor({
  name: 'analyze',
  needsClickHouse: true,
  config: analyzeConfig,
  create: (config, s) =>
    analyzeProcessor({
      clickhouse: s.clickhouse(),
      redis: s.redis,
      publisher: s.publisher,
      prompts: new PromptStore(s.clickhouse()),
      experiments: new DocumentStore(s.clickhouse(), 'experiments'),
      config,
      telemetry: analyzeTelemetry(s.registry),
      groupId: s.groupId,
    }),
});
