import { describe, expect, it } from 'vitest';
import { AutopilotError } from '../lib/errors.ts';
import { parseRule, ruleSchema, toRuleInput } from './alert-rules.ts';

const threshold = {
  name: 'checkout p99',
  kind: 'threshold',
  service: 'checkout',
  metric: 'http_request_duration_ms',
  field: 'p99',
  op: 'gt',
  value: 500,
  for: '2m',
};
const anomaly = { name: 'checkout anomalies', kind: 'anomaly', service: 'checkout', min_severity: 'high' };

/** The `{path, message}` details of a refusal (and that it is one). */
function refusal(body: unknown): { message: string; details: { path: string; message: string }[] } {
  try {
    parseRule(body);
  } catch (err) {
    expect(err).toBeInstanceOf(AutopilotError);
    const e = err as AutopilotError;
    expect(e.code).toBe('bad_request');
    expect(e.status).toBe(400);
    return { message: e.message, details: (e.details ?? []) as { path: string; message: string }[] };
  }
  throw new Error('expected the rule to be refused');
}

describe('rule schema', () => {
  it('parses a threshold rule with defaults and durations in ms', () => {
    expect(parseRule(threshold)).toEqual({
      kind: 'threshold',
      name: 'checkout p99',
      service: 'checkout',
      metric: 'http_request_duration_ms',
      labels: {},
      field: 'p99',
      op: 'gt',
      value: 500,
      for_ms: 120_000,
      cooldown_ms: 300_000,
      severity: 'warning',
      enabled: true,
      annotations: {},
    });
  });

  it('parses an anomaly rule with its defaults', () => {
    expect(parseRule(anomaly)).toMatchObject({
      kind: 'anomaly',
      metric: null,
      min_severity: 'high',
      for_ms: 0,
      resolve_after_ms: 300_000,
      cooldown_ms: 300_000,
      severity: 'warning',
      enabled: true,
    });
    expect(parseRule({ ...anomaly, metric: 'error_rate', for: '1h30m', resolve_after: '10m', severity: 'critical', enabled: false })).toMatchObject({
      metric: 'error_rate',
      for_ms: 5_400_000,
      resolve_after_ms: 600_000,
      severity: 'critical',
      enabled: false,
    });
  });

  it('sorts label keys and keeps numbers and booleans as the text the gateway stores', () => {
    const rule = parseRule({ ...threshold, labels: { route: '/pay', code: 500, canary: true } });
    expect(rule.kind === 'threshold' && rule.labels).toEqual({ canary: 'true', code: '500', route: '/pay' });
    expect(Object.keys(rule.kind === 'threshold' ? rule.labels : {})).toEqual(['canary', 'code', 'route']);
  });

  it('refuses unknown keys, including keys of the other kind', () => {
    expect(refusal({ ...threshold, treshold: 5 }).details).toEqual([{ path: '', message: 'Unrecognized key: "treshold"' }]);
    expect(refusal({ ...anomaly, field: 'p99' }).message).toContain('Unrecognized key: "field"');
    expect(refusal({ ...threshold, min_severity: 'high' }).message).toContain('Unrecognized key: "min_severity"');
  });

  it('says which fields are missing, and which kinds exist', () => {
    const { name: _, for: __, ...missing } = threshold;
    expect(refusal(missing).details).toEqual([
      { path: 'name', message: 'is required' },
      { path: 'for', message: 'is required' },
    ]);
    expect(refusal({ ...anomaly, min_severity: undefined }).details).toEqual([{ path: 'min_severity', message: 'is required' }]);
    expect(refusal({ ...threshold, kind: 'ratio' }).details).toEqual([{ path: 'kind', message: "must be 'threshold' or 'anomaly'" }]);
    expect(refusal({ name: 'x', service: 's' }).message).toBe("invalid rule: kind: must be 'threshold' or 'anomaly'");
    expect(refusal([threshold]).message).toBe('invalid rule: expected one JSON object');
  });

  it('refuses bad durations with the accepted form, and `for` over 24h', () => {
    expect(refusal({ ...threshold, for: '2 minutes' }).details[0]).toEqual({
      path: 'for',
      message: "'2 minutes' is not a duration: use a number and a unit (ms, s, m, h, d), largest unit first, such as '30s', '5m' or '1h30m'",
    });
    expect(refusal({ ...threshold, for: 120 }).details[0]).toEqual({ path: 'for', message: "must be a duration such as '30s', '5m' or '1h30m'" });
    expect(refusal({ ...threshold, for: '25h' }).details[0]).toEqual({ path: 'for', message: 'must be at most 24h' });
    expect(parseRule({ ...threshold, for: '24h' })).toMatchObject({ for_ms: 86_400_000 });
    expect(refusal({ ...anomaly, resolve_after: '0s' }).details[0]).toEqual({ path: 'resolve_after', message: 'must be at least 1s' });
  });

  it('refuses bad enums, values, metric names and reserved labels, all at once', () => {
    const { details, message } = refusal({
      ...threshold,
      field: 'p98',
      op: 'gte',
      value: 'high',
      metric: 'has space',
      labels: { service: 'checkout', alertname: 'x' },
    });
    expect(details).toEqual(
      expect.arrayContaining([
        { path: 'field', message: "must be one of 'p50', 'p90', 'p95', 'p99', 'min', 'max', 'avg', 'count', 'sum'" },
        { path: 'op', message: "must be one of 'gt', 'lt', 'eq'" },
        { path: 'value', message: 'must be a finite number' },
        { path: 'metric', message: 'letters, digits, _ : . - (Prometheus style), at most 200 characters' },
        { path: 'labels.service', message: "label 'service' is reserved: use the rule's `service` field" },
        { path: 'labels.alertname', message: "label 'alertname' is reserved: Autopilot sets it on every alert" },
      ]),
    );
    expect(details).toHaveLength(6);
    expect(message).toMatch(/^invalid rule: .*field: must be one of/);
    expect(refusal({ ...anomaly, min_severity: 'low', severity: 'page' }).details).toEqual([
      { path: 'severity', message: "must be one of 'warning', 'critical'" },
      { path: 'min_severity', message: "must be one of 'medium', 'high', 'critical'" },
    ]);
  });

  it('refuses an empty name or service', () => {
    expect(refusal({ ...threshold, name: '  ', service: '' }).details).toEqual([
      { path: 'name', message: 'must not be empty' },
      { path: 'service', message: 'must not be empty' },
    ]);
  });

  it('gives back the text form, which parses to the same rule', () => {
    for (const body of [
      { ...threshold, labels: { route: '/pay' }, annotations: { runbook: 'https://wiki/checkout' }, cooldown: '1h30m' },
      { ...anomaly, metric: 'error_rate', for: '90s' },
    ]) {
      const rule = parseRule(body);
      const text = toRuleInput(rule);
      expect(ruleSchema.parse(text)).toEqual(rule);
    }
    expect(toRuleInput(parseRule({ ...anomaly, for: '90s' }))).toMatchObject({ for: '1m30s', resolve_after: '5m', cooldown: '5m' });
  });
});
