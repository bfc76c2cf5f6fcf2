import { z } from 'zod';
import { sortKeys } from '../lib/labels.ts';
import { badRequest } from '../lib/errors.ts';
import { ALERT_RULE_SEVERITIES, ANOMALY_SEVERITIES, type AlertRuleSeverity, type AnomalySeverity } from '../lib/severity.ts';
import { durationText, formatDuration, parseDuration } from './duration.ts';

/**
 * Alert rules as a tenant writes them through the API, and their parsed form.
 * Objects are strict (a misspelt key is an error, not a rule that silently
 * never fires). Durations are Prometheus-style text (`30s`, `5m`, `1h30m`)
 * in the input and milliseconds (`for_ms`, `cooldown_ms`, `resolve_after_ms`)
 * once parsed, so the two forms cannot be mistaken for one another;
 * `toRuleInput` turns a parsed rule back into what the API shows.
 *
 * - threshold: fires when a field of a service's metric rollups (p99, avg …)
 *   compares true against `value` for `for`; one alert per matching series.
 * - anomaly: fires when the detector reports anomalies of at least
 *   `min_severity` for the service (and metric) for `for`; resolves after
 *   `resolve_after` without one; one alert per rule.
 * See evaluate.ts for the exact timing.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A duration between `min` and `max` ms, as text; output in ms. */
const duration = (max: number, min = 0) => durationText(max, min).transform((text) => parseDuration(text)!);

// Same limits as the gateway's inputs (gateway/records.ts), so anything a rule names can exist.
const service = z.string().min(1, 'must not be empty').max(256);
const metric = z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:.-]{0,199}$/, 'letters, digits, _ : . - (Prometheus style), at most 200 characters');
const labelName = z.string().min(1).max(128);

/** Labels every rule alert gets from Autopilot; a rule may not set them. */
const RESERVED_LABELS = ['alertname', 'rule_id', 'severity', 'service'] as const;

/** Matched exactly against the series' labels; values as the gateway stores them (numbers and booleans as text). */
const labels = z
  .record(labelName, z.union([z.string().max(2048), z.number(), z.boolean()], { error: 'label values are strings' }).transform(String))
  .superRefine((l, ctx) => {
    for (const name of RESERVED_LABELS) {
      if (name in l) {
        const why = name === 'service' ? "use the rule's `service` field" : 'Autopilot sets it on every alert';
        ctx.addIssue({ code: 'custom', path: [name], message: `label '${name}' is reserved: ${why}` });
      }
    }
  })
  .transform(sortKeys);

const annotations = z
  .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/, 'annotation names: letters, digits and _, not starting with a digit'), z.string().max(4096))
  .transform(sortKeys);

const FIELDS = ['p50', 'p90', 'p95', 'p99', 'min', 'max', 'avg', 'count', 'sum'] as const;
const OPS = ['gt', 'lt', 'eq'] as const;

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (iss) => (iss.input === undefined ? 'is required' : `must be one of ${values.map((v) => `'${v}'`).join(', ')}`) });

/** What both kinds share. */
const common = {
  name: z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters'),
  service,
  cooldown: duration(DAY).prefault('5m'),
  severity: oneOf(ALERT_RULE_SEVERITIES).default('warning'),
  enabled: z.boolean().default(true),
  annotations: annotations.optional(),
};

const thresholdInput = z.strictObject({
  ...common,
  kind: z.literal('threshold'),
  metric,
  labels: labels.optional(),
  field: oneOf(FIELDS),
  op: oneOf(OPS),
  value: z.number({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a finite number') }),
  for: duration(DAY),
});

const anomalyInput = z.strictObject({
  ...common,
  kind: z.literal('anomaly'),
  metric: metric.optional(),
  min_severity: oneOf(ANOMALY_SEVERITIES),
  for: duration(DAY).prefault('0s'),
  resolve_after: duration(DAY, 1000).prefault('5m'),
});

/** The rule as the API takes it; `ruleSchema` parses it into a `Rule`. */
export const ruleInputSchema = z.discriminatedUnion('kind', [thresholdInput, anomalyInput], {
  error: (iss) => (iss.code === 'invalid_union' ? "must be 'threshold' or 'anomaly'" : undefined),
});

export interface ThresholdRule {
  kind: 'threshold';
  name: string;
  service: string;
  metric: string;
  /** Exact-match subset of the series' labels, keys sorted; {} matches every series of the metric. */
  labels: Record<string, string>;
  field: (typeof FIELDS)[number];
  op: (typeof OPS)[number];
  value: number;
  for_ms: number;
  cooldown_ms: number;
  severity: AlertRuleSeverity;
  enabled: boolean;
  annotations: Record<string, string>;
}

export interface AnomalyRule {
  kind: 'anomaly';
  name: string;
  service: string;
  /** null: anomalies of any metric of the service. */
  metric: string | null;
  min_severity: AnomalySeverity;
  for_ms: number;
  resolve_after_ms: number;
  cooldown_ms: number;
  severity: AlertRuleSeverity;
  enabled: boolean;
  annotations: Record<string, string>;
}

export type Rule = ThresholdRule | AnomalyRule;
export type RuleInput = z.input<typeof ruleInputSchema>;
/** A rule as kept for a tenant (ids and times are the API's to assign). */
export type StoredRule = Rule & { id: string; tenant: string; created_at: number; updated_at: number };

export const ruleSchema = ruleInputSchema.transform((r): Rule => {
  const shared = { name: r.name, service: r.service, cooldown_ms: r.cooldown, severity: r.severity, enabled: r.enabled, annotations: r.annotations ?? {} };
  if (r.kind === 'threshold') {
    return { kind: 'threshold', ...shared, metric: r.metric, labels: r.labels ?? {}, field: r.field, op: r.op, value: r.value, for_ms: r.for };
  }
  return { kind: 'anomaly', ...shared, metric: r.metric ?? null, min_severity: r.min_severity, for_ms: r.for, resolve_after_ms: r.resolve_after };
});

/** A missing field says so, rather than zod's "expected string, received undefined". */
const parseErrors = (iss: { code: string; input?: unknown }) => (iss.code === 'invalid_type' && iss.input === undefined ? 'is required' : undefined);

/** Parses an API body into a rule, or throws `bad_request` listing every problem as `{path, message}`. */
export function parseRule(body: unknown): Rule {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('invalid rule: expected one JSON object');
  const parsed = ruleSchema.safeParse(body, { error: parseErrors });
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const text = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
  throw badRequest(`invalid rule: ${text}`, details);
}

/** The text form the API shows and takes back: durations as text, defaults spelt out. */
export function toRuleInput(rule: Rule): RuleInput {
  const shared = {
    name: rule.name,
    service: rule.service,
    cooldown: formatDuration(rule.cooldown_ms),
    severity: rule.severity,
    enabled: rule.enabled,
    annotations: rule.annotations,
  };
  if (rule.kind === 'threshold') {
    return {
      ...shared,
      kind: 'threshold',
      metric: rule.metric,
      labels: rule.labels,
      field: rule.field,
      op: rule.op,
      value: rule.value,
      for: formatDuration(rule.for_ms),
    };
  }
  return {
    ...shared,
    kind: 'anomaly',
    ...(rule.metric === null ? {} : { metric: rule.metric }),
    min_severity: rule.min_severity,
    for: formatDuration(rule.for_ms),
    resolve_after: formatDuration(rule.resolve_after_ms),
  };
}
