import { sortKeys } from '../../../lib/labels.ts';
import type { LogEntry } from '../../../schemas/topics.ts';
import { MAX_LOG_LINE, MAX_SERVICE } from '../../records.ts';
import { MAX_PROBLEMS, noteProblem, type Rejections } from '../partial-write.ts';
import { inWindow, labelProblem } from '../series-rules.ts';
import { anyValueText, attribute, attributeMap } from './attributes.ts';
import type { LogRecordMsg, LogsRequestMsg } from './messages.ts';

/**
 * OTLP log records as log_entries rows, the lines error-rate detection reads:
 *
 * - service: the resource's `service.name`; level: from severity_number
 *   (the OTLP ranges: 1–4 trace, 5–8 debug, 9–12 info, 13–16 warn,
 *   17–20 error, 21–24 fatal), else from severity_text, else info;
 *   message: the body (a string as is, anything else as its JSON);
 * - labels: the record's attributes, `trace_id` and `span_id` (hex) when
 *   set, `event_name` when set, `instance` from `service.instance.id`, and
 *   the scope as `otel_scope_name` (as metrics carry it);
 * - time: time_unix_nano, else observed_time_unix_nano (the spec's rule for
 *   a record without one).
 */
export interface OtlpLogConversion extends Rejections {
  entries: LogEntry[];
}

export function toOtlpLogEntries(tenant: string, request: LogsRequestMsg, now = Date.now()): OtlpLogConversion {
  const out: OtlpLogConversion = { entries: [], total: 0, outOfWindow: 0, invalid: 0, problems: [] };
  for (const rl of request.resource_logs ?? []) {
    const service = attribute(rl.resource?.attributes, 'service.name') || 'unknown_service';
    const instance = attribute(rl.resource?.attributes, 'service.instance.id');
    for (const sl of rl.scope_logs ?? []) {
      const common: Record<string, string> = {};
      if (instance) common.instance = instance;
      if (sl.scope?.name) common.otel_scope_name = sl.scope.name;
      for (const r of sl.log_records ?? []) {
        out.total++;
        const labels = sortKeys({ ...attributeMap(r.attributes), ...ids(r), ...common });
        const message = anyValueText(r.body);
        const problem =
          labelProblem(labels) ??
          (message.length > MAX_LOG_LINE
            ? `the body is longer than ${MAX_LOG_LINE} characters`
            : service.length > MAX_SERVICE
              ? `service.name is longer than ${MAX_SERVICE} characters`
              : undefined);
        if (problem !== undefined) {
          reject(out, 'invalid', `${service}: ${problem}`);
          continue;
        }
        const ns = r.time_unix_nano || r.observed_time_unix_nano;
        const timestamp = Math.round(ns / 1e6);
        if (ns <= 0 || !inWindow(timestamp, now)) {
          reject(out, 'outOfWindow', `${service}: time_unix_nano ${ns} is outside the accepted window`);
          continue;
        }
        out.entries.push({ tenant, timestamp, level: levelOf(r), message, service, labels });
      }
    }
  }
  return out;
}

function ids(r: LogRecordMsg): Record<string, string> {
  const out: Record<string, string> = {};
  if (r.trace_id?.length) out.trace_id = Buffer.from(r.trace_id).toString('hex');
  if (r.span_id?.length) out.span_id = Buffer.from(r.span_id).toString('hex');
  if (r.event_name) out.event_name = r.event_name;
  return out;
}

const SEVERITY_RANGES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const SEVERITY_TEXTS: Record<string, string> = {
  warning: 'warn',
  critical: 'fatal',
  err: 'error',
  crit: 'fatal',
  emerg: 'fatal',
  alert: 'fatal',
  notice: 'info',
};

export function levelOf(r: Pick<LogRecordMsg, 'severity_number' | 'severity_text'>): string {
  if (r.severity_number >= 1 && r.severity_number <= 24) return SEVERITY_RANGES[Math.floor((r.severity_number - 1) / 4)]!;
  const text = (r.severity_text ?? '').trim().toLowerCase();
  if ((SEVERITY_RANGES as readonly string[]).includes(text)) return text;
  return SEVERITY_TEXTS[text] ?? 'info';
}

function reject(out: OtlpLogConversion, why: 'invalid' | 'outOfWindow', problem: string): void {
  out[why]++;
  if (out.problems.length < MAX_PROBLEMS) noteProblem(out, problem);
}
