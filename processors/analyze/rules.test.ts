import { describe, expect, it } from 'vitest';
import { AnalysisAnswer } from './answer.ts';
import type { ContextAnomaly, IncidentContext } from './context.ts';
import { analyzeByRules, componentOf } from './rules.ts';
import { context, incident, MIN, T } from '../../test/fixtures/analysis.ts';

const anomaly = (metric: string, at: number, over: Partial<ContextAnomaly> = {}): ContextAnomaly => ({
  metric,
  kind: 'metric',
  labels: {},
  value: 812,
  baseline: 120,
  z: 8.1,
  severity: 'critical',
  at,
  ...over,
});
const errorLog = (at: number, message: string, labels: Record<string, string> = {}) => ({ at, level: 'error', message, labels });
const deployment = (at: number, version: string, status = 'succeeded', metadata: Record<string, string> = {}) => ({ at, version, status, metadata });

/** Every rule answer must pass the same validation a model's answer does. */
function analyze(ctx: IncidentContext): AnalysisAnswer {
  const answer = analyzeByRules(ctx);
  expect(AnalysisAnswer.parse(answer)).toEqual(answer);
  expect(answer.recommended_actions.map((a) => a.priority)).toEqual(answer.recommended_actions.map((_, i) => i + 1));
  return answer;
}

const noSuspect = incident({
  suspect_deployment: null,
  signals: [{ id: 'an-1', kind: 'anomaly', at: T + 3 * MIN, summary: 'latency', severity: 'high' }],
});

describe('rule-based analysis', () => {
  it('blames the suspect deployment and recommends rolling back to the version before it', () => {
    const answer = analyze(
      context({
        anomalies: [anomaly('latency_ms', T + 3 * MIN)],
        deployments: [deployment(T - 20 * MIN, 'v2.3.9'), deployment(T, 'v2.4.0', 'succeeded', { commit: '3f78685' })],
      }),
    );
    expect(answer.root_cause.description).toBe(
      'The deployment of v2.4.0 to checkout at 2026-11-23T12:00:00Z, 3 min before the first anomaly, is the likely cause.',
    );
    expect(answer.root_cause.reasoning).toContain('commit 3f78685');
    expect(answer.recommended_actions[0]).toMatchObject({ action: 'Roll back checkout from v2.4.0 to v2.3.9', risk: 'low', priority: 1 });
    expect(answer.recommended_actions[1]!.action).toContain('Review the changes in v2.4.0 (commit 3f78685)');
    expect(answer.severity).toBe('critical');
    // The fixture's incident has an error spike too.
    expect(answer.estimated_customer_impact).toMatch(
      /^Some requests to checkout are probably failing; requests to checkout are probably slower than usual since about 2026-11-23T12:03:00Z/,
    );
  });

  it('derives confidence from the evidence: a short gap, more series, errors and alerts raise it', () => {
    const weak = analyze(
      context({
        incident: incident({
          suspect_deployment: { id: 'd', version: 'v2.4.0', at: T, minutes_before: 25 },
          signals: [{ id: 'an-1', kind: 'anomaly', at: T + 25 * MIN, summary: 'latency', severity: 'medium' }],
        }),
        anomalies: [anomaly('latency_ms', T + 25 * MIN, { severity: 'medium', z: 3.2 })],
      }),
    );
    const strong = analyze(
      context({
        anomalies: [anomaly('latency_ms', T + 3 * MIN), anomaly('cpu', T + 3 * MIN), anomaly('error_rate', T + 4 * MIN, { kind: 'error_rate' })],
        errorLogs: [errorLog(T + 4 * MIN, 'NullPointerException in CartService', { logger: 'cart' })],
        alerts: [{ name: 'HighLatency', severity: 'critical', status: 'firing', summary: 'p99 > 1s', at: T + 4 * MIN }],
      }),
    );
    expect(weak.root_cause.confidence).toBeLessThan(60);
    expect(strong.root_cause.confidence).toBeGreaterThanOrEqual(80);
    expect(strong.root_cause.confidence).toBeLessThanOrEqual(85); // rules never claim certainty
    // Without a known previous version the rollback target is vaguer, and riskier.
    expect(weak.recommended_actions[0]).toMatchObject({ action: 'Roll back checkout from v2.4.0 to the previous version', risk: 'medium' });
    expect(strong.recommended_actions[1]!.action).toBe('Review the changes in v2.4.0, starting with cart');
    expect(strong.recommended_actions.at(-1)!.action).toBe('Follow the runbook of the firing alert HighLatency');
  });

  it('finds a deployment in the context when the correlator named none, but not one after the trouble began', () => {
    const answer = analyze(
      context({
        incident: noSuspect,
        anomalies: [anomaly('latency_ms', T + 3 * MIN)],
        deployments: [deployment(T - 10 * MIN, 'v7'), deployment(T + 5 * MIN, 'v8')],
      }),
    );
    expect(answer.root_cause.description).toContain('The deployment of v7 to checkout at 2026-11-23T11:50:00Z, 13 min before the first anomaly');
  });

  it('when a rollback already happened, asks to confirm it instead of rolling back again', () => {
    const answer = analyze(
      context({
        anomalies: [anomaly('latency_ms', T + 3 * MIN)],
        deployments: [deployment(T - 20 * MIN, 'v2.3.9'), deployment(T, 'v2.4.0'), deployment(T + 7 * MIN, 'v2.3.9', 'rollback')],
      }),
    );
    expect(answer.recommended_actions[0]!.action).toBe('Confirm that the rollback to v2.3.9 at 2026-11-23T12:07:00Z brought checkout back to its baseline');
  });

  it('neither rolls back to a version whose deployment was cancelled or failed, nor takes a cancelled rollback for one', () => {
    // Before, the target was v2.3.10 (the latest other version, though it never went out).
    const answer = analyze(
      context({
        anomalies: [anomaly('latency_ms', T + 3 * MIN)],
        deployments: [
          deployment(T - 40 * MIN, 'v2.3.9'),
          deployment(T - 25 * MIN, 'v2.3.10', 'failed'),
          deployment(T - 20 * MIN, 'v2.3.11', 'cancelled'),
          deployment(T, 'v2.4.0'),
          deployment(T + 7 * MIN, 'v2.3.9', 'cancelled'),
        ],
      }),
    );
    expect(answer.recommended_actions[0]).toMatchObject({ action: 'Roll back checkout from v2.4.0 to v2.3.9', risk: 'low' });
  });

  it('without a deployment, blames the component the error logs name most (labels, component= and [tags])', () => {
    const answer = analyze(
      context({
        incident: noSuspect,
        anomalies: [anomaly('error_rate', T + 3 * MIN, { kind: 'error_rate' })],
        errorLogs: [
          errorLog(T + MIN, 'ERROR [db-pool] connection refused to 10.0.3.7:5432'),
          errorLog(T + 2 * MIN, 'ERROR [db-pool] connection refused to 10.0.3.8:5432'),
          errorLog(T + 2 * MIN, 'timeout acquiring connection component=db-pool'),
          errorLog(T + 2 * MIN, 'cache miss storm', { component: 'redis-cache' }),
          errorLog(T + 3 * MIN, 'unexpected end of input'),
        ],
      }),
    );
    expect(answer.root_cause.description).toBe('Failures in db-pool of checkout: it is named in 3 of 5 error log lines.');
    expect(answer.recommended_actions[0]!.action).toBe(
      'Investigate db-pool, starting with its most frequent error: "ERROR [db-pool] connection refused to [REDACTED:ip]:5432" (2×)',
    );
    expect(JSON.stringify(answer)).not.toContain('10.0.3.7');
    expect(answer.root_cause.confidence).toBeGreaterThan(40);
    expect(answer.root_cause.confidence).toBeLessThanOrEqual(70);
    expect(answer.estimated_customer_impact).toMatch(/^Some requests to checkout are probably failing/);
  });

  it('with errors that name no component, describes the most frequent error with low confidence', () => {
    const answer = analyze(
      context({
        incident: noSuspect,
        errorLogs: [errorLog(T + MIN, 'payment declined for alice@example.com'), errorLog(T + 2 * MIN, 'payment declined for bob@example.com')],
      }),
    );
    expect(answer.root_cause.description).toBe('Errors in checkout, most often: "payment declined for [REDACTED:email]".');
    expect(answer.root_cause.confidence).toBeLessThanOrEqual(30);
  });

  it('with only firing alerts, names the alert', () => {
    const answer = analyze(
      context({
        incident: noSuspect,
        alerts: [{ name: 'DiskAlmostFull', severity: 'warning', status: 'firing', summary: 'disk 95% full on 10.1.2.3', at: T }],
      }),
    );
    expect(answer.root_cause.description).toBe('Alert DiskAlmostFull is firing for checkout: disk 95% full on [REDACTED:ip].');
    expect(answer.root_cause.confidence).toBeLessThanOrEqual(40);
    expect(answer.recommended_actions).toEqual([expect.objectContaining({ action: 'Follow the runbook of the firing alert DiskAlmostFull', priority: 1 })]);
  });

  it('otherwise says what was observed, with a low confidence', () => {
    const answer = analyze(
      context({
        incident: noSuspect,
        anomalies: [
          anomaly('queue_depth', T + 3 * MIN, { value: 5000, baseline: 40, z: 12, severity: 'high' }),
          anomaly('cpu', T + 3 * MIN, { z: 3, severity: 'high' }),
        ],
      }),
    );
    expect(answer.root_cause.description).toBe('Unexplained anomalies on checkout: 2 series, the strongest queue_depth (5000 vs baseline 40).');
    expect(answer.root_cause.confidence).toBe(15);
    expect(answer.recommended_actions[0]!.action).toBe('Investigate queue_depth on checkout around 2026-11-23T12:03:00Z');
    expect(answer.estimated_customer_impact).toMatch(/short of capacity/);

    const empty = analyze(context({ incident: incident({ suspect_deployment: null, signals: [] }) }));
    expect(empty.root_cause.confidence).toBe(5);
    expect(empty.estimated_customer_impact).toMatch(/^Unknown from the signals/);
  });

  it('is deterministic', () => {
    const ctx = context({ anomalies: [anomaly('latency_ms', T + 3 * MIN)], errorLogs: [errorLog(T, 'x [api] y')] });
    expect(analyzeByRules(ctx)).toEqual(analyzeByRules(structuredClone(ctx)));
  });
});

describe('componentOf', () => {
  it.each([
    [{ message: 'boom', labels: { logger: 'com.shop.Cart' } }, 'com.shop.Cart'],
    [{ message: 'failed component="payments-gw" after 3 tries', labels: {} }, 'payments-gw'],
    [{ message: '[ERROR] [kafka-producer] broker down', labels: {} }, 'kafka-producer'],
    [{ message: '[2026-11-23T12:00:00Z] [REDACTED:ip] refused', labels: {} }, null],
    [{ message: 'plain failure', labels: {} }, null],
  ])('%j → %s', (log, expected) => {
    expect(componentOf(log)).toBe(expected);
  });
});

describe('rule-based analysis of a degraded third-party dependency', () => {
  // Each fails on the rules as they were: a dependency was not evidence, so these answers blamed the
  // deployment at full confidence or called the anomalies unexplained.
  const stripe = (over: Partial<IncidentContext['dependencies'][number]> = {}): IncidentContext['dependencies'][number] => ({
    provider: 'Stripe',
    kind: 'component',
    subject: 'API',
    status: 'major_outage',
    previous: 'operational',
    degraded: true,
    impact: 'major',
    message: 'Elevated error rates',
    url: 'https://status.stripe.com',
    at: T + 2 * MIN,
    ...over,
  });
  const onStripe = incident({
    suspect_deployment: null,
    signals: [
      { id: 'chg_1', kind: 'dependency', at: T + 2 * MIN, summary: 'Stripe: API major_outage (major)', severity: 'high' },
      { id: 'an-1', kind: 'anomaly', at: T + 3 * MIN, summary: 'latency', severity: 'high' },
    ],
  });
  const stripeErrors = [errorLog(T + 3 * MIN, 'charge failed: Stripe API returned 503'), errorLog(T + 4 * MIN, 'charge failed: Stripe API returned 503')];

  it('names the provider and its component as the cause, with its status page and a way around it', () => {
    const answer = analyze(context({ incident: onStripe, anomalies: [anomaly('latency_ms', T + 3 * MIN)], dependencies: [stripe()] }));
    expect(answer.root_cause.description).toBe(
      'Third-party dependency Stripe (API) is degraded (major_outage, impact major), and checkout depends on it: the likely cause.',
    );
    expect(answer.root_cause.reasoning).toContain('Stripe (API) major_outage since 2026-11-23T12:02:00Z, impact major');
    expect(answer.recommended_actions[0]!.action).toMatch(/^Check Stripe's status page \(https:\/\/status\.stripe\.com\)/);
    expect(answer.recommended_actions[1]!.action).toMatch(/fail over to a secondary provider .* retries with backoff/);
    expect(answer.estimated_customer_impact).toMatch(/^Requests of checkout that need Stripe are probably failing or slow/);
    expect(answer.root_cause.confidence).toBe(35 + 20 + 10); // a major impact, degraded before the first anomaly

    // Error logs that name the provider are the strongest link.
    const named = analyze(context({ incident: onStripe, dependencies: [stripe()], errorLogs: stripeErrors }));
    expect(named.root_cause.confidence).toBe(80);
    expect(named.root_cause.reasoning).toContain('2 error log lines name Stripe');
  });

  it('weighs a dependency against a suspect deployment: both lose confidence, the stronger leads, the other is the alternative', () => {
    const withDeployment = (dependency: IncidentContext['dependencies'][number], errorLogs: ReturnType<typeof errorLog>[] = []) =>
      context({
        incident: incident({ signals: [...incident().signals, { id: 'chg_1', kind: 'dependency', at: dependency.at, summary: 'Stripe', severity: 'high' }] }),
        anomalies: [anomaly('latency_ms', T + 3 * MIN)],
        deployments: [deployment(T - 20 * MIN, 'v2.3.9'), deployment(T, 'v2.4.0')],
        dependencies: [dependency],
        errorLogs,
      });
    const deploymentAlone = analyze(
      context({ anomalies: [anomaly('latency_ms', T + 3 * MIN)], deployments: [deployment(T - 20 * MIN, 'v2.3.9'), deployment(T, 'v2.4.0')] }),
    );

    // A major outage whose name is in the error logs outweighs the deployment.
    const outage = analyze(withDeployment(stripe(), stripeErrors));
    expect(outage.root_cause.description).toMatch(/^Third-party dependency Stripe \(API\) is degraded/);
    expect(outage.root_cause.confidence).toBe(80 - 15);
    expect(outage.root_cause.reasoning).toMatch(/Competing hypothesis \(confidence \d+\): The deployment of v2.4.0/);
    expect(outage.recommended_actions.at(-1)!.action).toBe('Roll back checkout from v2.4.0 to v2.3.9');

    // A minor degradation posted after the trouble began does not: the deployment leads, less sure than alone.
    const minor = analyze(withDeployment(stripe({ status: 'degraded_performance', impact: 'minor', at: T + 10 * MIN })));
    expect(minor.root_cause.description).toMatch(/^The deployment of v2.4.0/);
    expect(minor.root_cause.confidence).toBe(deploymentAlone.root_cause.confidence - 15);
    expect(minor.root_cause.reasoning).toContain('Competing hypothesis');
    expect(minor.recommended_actions.at(-1)!.action).toMatch(/^Check Stripe's status page/);
  });

  it('a dependency that recovered before the trouble began is no suspect', () => {
    const recovered = stripe({ status: 'operational', degraded: false, impact: 'none', at: T - 10 * MIN });
    const answer = analyze(context({ anomalies: [anomaly('latency_ms', T + 3 * MIN)], dependencies: [recovered] }));
    expect(answer.root_cause.description).toMatch(/^The deployment of v2.4.0/);
    expect(answer.root_cause.reasoning).not.toContain('Competing');
  });

  it("names the provider from the correlator's signal when the status rows are not written yet", () => {
    const answer = analyze(context({ incident: onStripe, anomalies: [anomaly('latency_ms', T + 3 * MIN)] }));
    expect(answer.root_cause.description).toBe('A third-party dependency of checkout is degraded (Stripe: API major_outage (major)), the likely cause.');
    expect(answer.recommended_actions[0]!.action).toMatch(/^Check the provider's status page/);
  });
});
