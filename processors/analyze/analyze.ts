import type { AnalysisRecord, IncidentRecord } from '../../schemas/topics.ts';
import type { AnalysisAnswer } from './answer.ts';
import { renderContext, type IncidentContext } from './context.ts';
import { ModelFailure } from '../../lib/model-calls.ts';
import { promptVariables, renderTemplate, type PromptTemplate } from './prompt.ts';
import { analyzeByRules } from './rules.ts';

export interface AnalyzeDeps {
  loadContext(): Promise<IncidentContext>;
  prompt: PromptTemplate;
  experiment: { id: string; variant: string } | null;
  ask(prompt: string): Promise<{ answer: AnalysisAnswer; model: string; durationMs: number }>;
  now(): number;
  maxContextBytes: number;
}

/**
 * One incident version in, one analysis out. The model answers when it can;
 * when it cannot (timeout, unreachable, an HTTP error, an answer that is not
 * the schema, or a prompt that does not render), the rules answer instead and
 * the record says why in `fallback_reason`. So an analysis is always written,
 * and a dead Ollama costs quality, never the record.
 *
 * A failing `loadContext` is not hidden: without the context there is
 * nothing worth writing, and ClickHouse being down is the processor's to retry.
 */
export async function analyzeIncident(incident: IncidentRecord, deps: AnalyzeDeps): Promise<AnalysisRecord> {
  const started = deps.now();
  const ctx = await deps.loadContext();

  let outcome: { answer: AnalysisAnswer; source: 'llm' | 'rules'; model: string | null; fallback: string | null };
  try {
    const prompt = renderPrompt(deps.prompt, incident, renderContext(ctx, { maxBytes: deps.maxContextBytes }));
    const reply = await deps.ask(prompt);
    outcome = { answer: reply.answer, source: 'llm', model: reply.model, fallback: null };
  } catch (err) {
    outcome = { answer: analyzeByRules(ctx), source: 'rules', model: null, fallback: fallbackReason(err) };
  }

  const finished = deps.now();
  return {
    analysis_id: analysisId(incident, deps.prompt, deps.experiment),
    incident_id: incident.incident_id,
    tenant: incident.tenant,
    service: incident.service,
    source: outcome.source,
    model: outcome.model,
    prompt_name: deps.prompt.name,
    prompt_version: deps.prompt.version,
    experiment_id: deps.experiment?.id ?? null,
    variant: deps.experiment?.variant ?? null,
    fallback_reason: outcome.fallback,
    duration_ms: Math.max(0, Math.round(finished - started)),
    created_at: finished,
    root_cause: outcome.answer.root_cause,
    recommended_actions: outcome.answer.recommended_actions,
    severity: outcome.answer.severity,
    estimated_customer_impact: outcome.answer.estimated_customer_impact,
    incident_severity: incident.severity,
    incident_opened_at: incident.opened_at,
    signals: incident.signals.map((s) => ({ kind: s.kind, at: s.at, summary: s.summary, severity: s.severity })),
  };
}

/** A template that does not render is a bad prompt version: the rules answer, labelled so the prompt's author sees it. */
class PromptInvalid extends Error {}

function renderPrompt(prompt: PromptTemplate, incident: IncidentRecord, context: string): string {
  try {
    return renderTemplate(prompt.template, promptVariables(incident, context));
  } catch (err) {
    throw new PromptInvalid(err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** ModelFailure reasons as they are; anything else thrown while asking is a bug or a bad prompt, named as such. */
function fallbackReason(err: unknown): string {
  if (err instanceof ModelFailure) return err.reason;
  if (err instanceof PromptInvalid) return 'prompt_invalid';
  return 'internal_error';
}

/**
 * Stable: the same incident version analysed with the same prompt version (and
 * experiment arm) always gets the same id, so a replay overwrites rather than
 * adds. A new incident version or a new prompt version is a new analysis.
 */
export function analysisId(
  incident: Pick<IncidentRecord, 'incident_id' | 'version'>,
  prompt: Pick<PromptTemplate, 'name' | 'version'>,
  experiment: { id: string; variant: string } | null,
): string {
  const arm = experiment ? `:${experiment.id}/${experiment.variant}` : '';
  return `${incident.incident_id}:v${incident.version}:${prompt.name}@${prompt.version}${arm}`;
}
