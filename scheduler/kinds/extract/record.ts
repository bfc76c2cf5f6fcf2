import { createHash } from 'node:crypto';
import type { ExtractionRecord } from '../../../schemas/topics.ts';
import type { JobContext } from '../../context.ts';
import type { ExtractionOutcome } from './extract-text.ts';

/**
 * The id of what a run made of a URL: its extraction, and a scrape's page
 * (which then shares its extraction's id). The same run publishing again
 * writes the same row rather than a second one.
 */
export const recordId = (ctx: Pick<JobContext, 'tenant' | 'jobId' | 'runId'>, url: string): string =>
  createHash('sha256').update(`${ctx.tenant}\u0000${ctx.jobId}\u0000${ctx.runId}\u0000${url}`).digest('hex').slice(0, 32);

/** An extraction as it is published (schemas/extraction.avsc). */
export function extractionRecord(o: ExtractionOutcome, url: string, at: number, ctx: Pick<JobContext, 'tenant' | 'jobId' | 'runId'>): ExtractionRecord {
  return {
    extraction_id: recordId(ctx, url),
    tenant: ctx.tenant,
    job_id: ctx.jobId,
    run_id: ctx.runId,
    url,
    model: o.model,
    status: o.status,
    result: o.result === null ? null : JSON.stringify(o.result),
    quality: o.quality,
    quality_details: JSON.stringify(o.quality_details),
    raw_answer: o.raw_answer,
    source_text: o.source_text,
    error: o.error,
    duration_ms: o.duration_ms,
    at,
  };
}
