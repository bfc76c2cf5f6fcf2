import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { TOPICS, type IncidentRecord, type RecordKind, type RecordOf } from './topics.ts';

/**
 * The TypeScript record types in topics.ts are written by hand beside the .avsc
 * files (no code generation, by design), so this test is what keeps them in step.
 *
 * Two halves, one per side of the contract:
 * - The compiler (`npx tsc -p . --noEmit` checks this file: tsconfig includes schemas/)
 *   holds SAMPLES to the exact TypeScript types: every field present, no extra one,
 *   nested records included, and `null` only where the type says `| null`.
 * - At run time each sample is held to its Avro schema: the same field names at every
 *   depth, values avsc accepts (`noUndeclaredFields`), and every place the schema can
 *   hold a value actually reached by some sample: nullable places both null and not,
 *   arrays and maps not empty, so nothing nested goes uncompared.
 * A field added, dropped, renamed, retyped or made nullable on one side only fails one half.
 */

/** T with every field, however deep, required: what a record type must already be. */
type Complete<T> = T extends readonly (infer E)[] ? Complete<E>[] : T extends object ? { [F in keyof T]-?: Complete<T[F]> } : T;
type KindsWithOptionalFields = { [K in RecordKind]: RecordOf<K> extends Complete<RecordOf<K>> ? never : K }[RecordKind];
/**
 * Compiles only while no record type has an optional (`x?:`) field at any depth; the error names the kind.
 * A decoded record always holds every field (the writer writes each one; a reader fills in defaults),
 * so `?` would misdescribe what consumers get. Absent values are `T | null` ↔ `["null", T]` with `"default": null`.
 */
const noOptionalFields: [KindsWithOptionalFields] extends [never] ? true : KindsWithOptionalFields = true;

const T0 = 1767225600000; // 2026-01-01T00:00:00Z
const labels = { route: '/pay', service: 'checkout' };

/** An agent call from the JSON API, without the nullable fields (each sample sets those). */
const AGENT_EVENT_API = {
  event_id: 'api-1',
  tenant: 'acme',
  agent: 'triage',
  model: 'claude-sonnet-4',
  provider: '',
  operation: 'invoke_agent',
  started_at: T0,
  duration_ms: 2400,
  input_tokens: 500,
  output_tokens: 120,
  cached_input_tokens: 0,
  status: 'ok' as const,
  trace_id: '',
  span_id: '',
  source: 'api' as const,
  attributes: {},
};

/** Typed with the exact record types, so the compiler checks the TypeScript side of each. */
const JOB_RUN = {
  run_id: 'run-1',
  tenant: 'acme',
  job_id: 'job-1',
  job_name: 'checkout health',
  kind: 'http_probe',
  trigger: 'schedule' as const,
  scheduled_at: T0,
  started_at: T0 + 3,
  ended_at: T0 + 40,
  outcome: 'success' as const,
  items: 3,
  details: '{"status":200}',
  scheduler: 'host-a:123',
};
const STATUS_CHANGE = {
  change_id: 'chg-1',
  tenant: 'acme',
  service: 'checkout',
  job_id: 'job-2',
  provider: 'Stripe',
  subject_kind: 'component' as const,
  subject_id: 'cmp-1',
  subject_name: 'API',
  to_status: 'degraded_performance',
  degraded: true,
  impact: 'minor' as const,
  message: 'API is degraded',
  url: 'https://status.stripe.com',
  at: T0,
};
const EXTRACTION = {
  extraction_id: 'ext-1',
  tenant: 'acme',
  job_id: 'job-3',
  run_id: 'run-3',
  url: 'https://shop.example.com/p/1',
  status: 'ok' as const,
  quality_details: '{"schema_valid":1}',
  source_text: 'Price 9.99',
  duration_ms: 1200,
  at: T0,
};

const PROPOSAL = {
  proposal_id: 'prop-1',
  version: 1,
  tenant: 'acme',
  service: 'checkout',
  trigger: 'incident' as const,
  subject_id: 'inc-1',
  policy_id: 'pol-1',
  policy_name: 'roll back a suspect deployment',
  action_id: 'act-1',
  action_name: 'rollback',
  action_kind: 'github_workflow',
  risk: 'medium',
  mode: 'approve' as const,
  dry_run: false,
  variables: { service: 'checkout', suspect_version: 'v2.4.0' },
  status: 'proposed' as const,
  created_at: T0,
  updated_at: T0,
  expires_at: T0 + 1_800_000,
  verify_within_ms: 900_000,
};

const SAMPLES: { [K in RecordKind]: RecordOf<K>[] } = {
  metrics: [{ tenant: 'acme', timestamp: T0, metric_name: 'http_request_duration_seconds', value: 0.25, labels }],
  metricBatches: [
    {
      tenant: 'acme',
      base_timestamp: T0,
      symbols: ['__name__', 'http_request_duration_seconds', 'service', 'checkout'],
      series: [{ labels_refs: [0, 1, 2, 3], sample_count: 2 }],
      timestamps: [0, 15_000],
      values: [0.25, 0.3],
    },
  ],
  logs: [{ tenant: 'acme', timestamp: T0, level: 'error', message: 'payment declined', service: 'checkout', labels: { pod: 'checkout-7f9' } }],
  logBatches: [
    {
      tenant: 'acme',
      base_timestamp: T0,
      symbols: ['checkout', 'pod', 'checkout-7f9'],
      streams: [{ service_ref: 0, labels_refs: [1, 2], entry_count: 2 }],
      timestamps: [0, 1500],
      levels: ['info', 'error'],
      messages: ['charge ok', 'payment declined'],
    },
  ],
  spans: [
    {
      tenant: 'acme',
      base_timestamp: T0,
      resources: [
        {
          service: 'checkout',
          attributes: { 'service.name': 'checkout', 'host.name': 'web-1' },
          scope_name: '@opentelemetry/instrumentation-http',
          scope_version: '0.57.0',
          span_count: 1,
        },
      ],
      spans: [
        {
          trace_id: '5b8efff798038103d269b633813fc60c',
          span_id: 'eee19b7ec3c1b174',
          parent_span_id: 'eee19b7ec3c1b173',
          trace_state: 'congo=t61rcWkgMzE',
          name: 'POST /pay',
          kind: 'Server',
          start_ns: 250_000,
          duration_ns: 1_500_000,
          status_code: 'Error',
          status_message: 'card declined',
          attributes: { 'http.request.method': 'POST' },
          events: [{ time_ns: 1_000_000, name: 'exception', attributes: { 'exception.type': 'CardDeclined' } }],
          links: [{ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', trace_state: '', attributes: { 'link.kind': 'retry' } }],
        },
      ],
    },
  ],
  deployments: [
    { tenant: 'acme', timestamp: T0, service: 'checkout', version: 'v1.4.2', status: 'succeeded', metadata: { commit: 'a1b2c3d', deployed_by: 'ci' } },
  ],
  rollups: [
    {
      tenant: 'acme',
      service: 'checkout',
      metric_name: 'http_request_duration_seconds',
      labels,
      window_start: T0,
      window_end: T0 + 60_000,
      count: 120,
      sum: 30.5,
      min: 0.01,
      max: 1.2,
      p50: 0.2,
      p90: 0.6,
      p95: 0.8,
      p99: 1.1,
    },
  ],
  rollupBatches: [
    {
      tenant: 'acme',
      service: 'checkout',
      windows: [
        {
          metric_name: 'http_request_duration_seconds',
          labels,
          window_start: T0,
          window_end: T0 + 60_000,
          count: 120,
          sum: 30.5,
          min: 0.01,
          max: 1.2,
          p50: 0.2,
          p90: 0.6,
          p95: 0.8,
          p99: 1.1,
        },
      ],
    },
  ],
  anomalies: [
    {
      anomaly_id: 'autopilot.metrics:3:1042',
      tenant: 'acme',
      service: 'checkout',
      metric_name: 'http_request_duration_seconds',
      labels,
      kind: 'metric',
      current_value: 1.9,
      baseline_mean: 0.25,
      baseline_std_dev: 0.05,
      baseline_median: 0.24,
      z_score: 33,
      deviation_percent: 660,
      severity: 'critical',
      level_shift: false,
      consecutive: 3,
      detected_at: T0,
      source_topic: 'autopilot.metrics',
      source_partition: 3,
      source_offset: 1042,
      p_value: 1.2e-9,
      anomaly_score: 0.8992,
    },
    // As a record from before the detector kept p-values reads.
    {
      anomaly_id: 'an_5d0c_1767225600000',
      tenant: 'acme',
      service: 'checkout',
      metric_name: 'http_request_duration_seconds',
      labels,
      kind: 'metric',
      current_value: 1.9,
      baseline_mean: 0.25,
      baseline_std_dev: 0.05,
      baseline_median: 0.24,
      z_score: 33,
      deviation_percent: 660,
      severity: 'critical',
      level_shift: false,
      consecutive: 1,
      detected_at: T0,
      source_topic: 'autopilot.metric-batches',
      source_partition: 3,
      source_offset: 1042,
      p_value: null,
      anomaly_score: null,
    },
  ],
  incidents: [
    {
      incident_id: 'inc-1',
      tenant: 'acme',
      service: 'checkout',
      version: 1,
      status: 'open',
      severity: 'high',
      opened_at: T0,
      updated_at: T0,
      resolved_at: null,
      signals: [{ id: 'an-1', kind: 'anomaly', at: T0, summary: 'latency 7x baseline', severity: 'critical' }],
      signal_count: 1,
      suspect_deployment: null,
    },
    {
      incident_id: 'inc-2',
      tenant: 'acme',
      service: 'checkout',
      version: 3,
      status: 'resolved',
      severity: 'critical',
      opened_at: T0,
      updated_at: T0 + 600_000,
      resolved_at: T0 + 600_000,
      signals: [{ id: 'log-1', kind: 'log', at: T0, summary: 'payment declined', severity: null }],
      signal_count: 14,
      suspect_deployment: { id: 'dep-1', version: 'v1.4.2', at: T0 - 180_000, minutes_before: 3 },
    },
  ],
  alerts: [
    {
      alert_id: 'fp1:firing:1767225600000',
      tenant: 'acme',
      service: 'checkout',
      source: 'alertmanager',
      alert_name: 'HighLatency',
      status: 'firing',
      severity: 'warning',
      fingerprint: 'fp1',
      labels,
      annotations: { summary: 'p99 above 1s' },
      starts_at: T0,
      ends_at: null,
      received_at: T0 + 5,
      generator_url: 'http://prometheus:9090/graph',
      rule_id: null,
      value: null,
    },
    {
      alert_id: 'fp2:resolved:1767225600000',
      tenant: 'acme',
      service: 'checkout',
      source: 'rule',
      alert_name: 'ErrorRate',
      status: 'resolved',
      severity: 'critical',
      fingerprint: 'fp2',
      labels,
      annotations: {},
      starts_at: T0,
      ends_at: T0 + 300_000,
      received_at: T0 + 300_005,
      generator_url: null,
      rule_id: 'rule-1',
      value: 0.93,
    },
  ],
  staleMarkers: [{ tenant: 'acme', timestamp: T0, metric_name: 'up', labels }],
  analyses: [
    {
      analysis_id: 'ana-1',
      incident_id: 'inc-1',
      tenant: 'acme',
      service: 'checkout',
      source: 'llm',
      model: 'llama3.1:8b',
      prompt_name: 'root-cause',
      prompt_version: 2,
      experiment_id: null,
      variant: null,
      fallback_reason: null,
      duration_ms: 812.5,
      created_at: T0,
      root_cause: { description: 'v1.4.2 slowed payments', confidence: 82.5, reasoning: 'latency rose 3 minutes after the deploy' },
      recommended_actions: [{ action: 'roll back to v1.4.1', reasoning: 'the deploy is the suspect', risk: 'low', priority: 1 }],
      severity: 'high',
      estimated_customer_impact: 'slow checkouts',
      incident_severity: 'high',
      incident_opened_at: T0,
      signals: [{ kind: 'anomaly', at: T0, summary: 'latency 7x baseline', severity: 'critical' }],
    },
    {
      analysis_id: 'ana-2',
      incident_id: 'inc-2',
      tenant: 'acme',
      service: 'checkout',
      source: 'rules',
      model: null,
      prompt_name: 'root-cause',
      prompt_version: 3,
      experiment_id: 'exp-1',
      variant: 'b',
      fallback_reason: 'timeout',
      duration_ms: 30_000,
      created_at: T0,
      root_cause: { description: 'error logs rose', confidence: 40, reasoning: 'rules' },
      recommended_actions: [{ action: 'check the payment provider', reasoning: 'declines rose', risk: 'medium', priority: 2 }],
      severity: 'medium',
      estimated_customer_impact: 'some failed payments',
      incident_severity: 'critical',
      incident_opened_at: T0,
      signals: [{ kind: 'log', at: T0, summary: 'payment declined', severity: null }],
    },
  ],
  notifications: [
    {
      delivery_id: 'del-1',
      tenant: 'acme',
      service: 'checkout',
      target_id: 'slack-oncall',
      target_kind: 'slack',
      reason: 'incident',
      subject_id: 'inc-1',
      outcome: 'delivered',
      attempts: 1,
      status_code: 200,
      error: null,
      duration_ms: 120.5,
      at: T0,
    },
    {
      delivery_id: 'del-2',
      tenant: 'acme',
      service: 'checkout',
      target_id: 'hook-1',
      target_kind: 'webhook',
      reason: 'alert_firing',
      subject_id: 'fp1:firing:1767225600000',
      outcome: 'failed',
      attempts: 3,
      status_code: null,
      error: 'connect ECONNREFUSED',
      duration_ms: 3000,
      at: T0,
    },
  ],
  agentEvents: [
    {
      event_id: '0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331',
      tenant: 'acme',
      agent: 'support-bot',
      model: 'gpt-4o-mini',
      provider: 'openai',
      operation: 'chat',
      started_at: T0,
      duration_ms: 812.5,
      input_tokens: 1200,
      output_tokens: 300,
      cached_input_tokens: 1000,
      cost: 0.0012,
      status: 'error',
      error_type: 'rate_limit',
      session_id: 'conv-7',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
      source: 'otlp',
      attributes: { 'gen_ai.request.temperature': '0.2' },
    },
    { ...AGENT_EVENT_API, cost: null, error_type: null, session_id: null },
  ],
  agentCalls: [
    { ...AGENT_EVENT_API, cost: 0.000345, error_type: null, session_id: null, cost_source: 'price_table', price_version: 3, attributes: { team: 'sre' } },
    { ...AGENT_EVENT_API, cost: null, error_type: 'timeout', session_id: 's-1', status: 'error', cost_source: 'unknown', price_version: 0 },
  ],
  jobRuns: [
    { ...JOB_RUN, error: null },
    { ...JOB_RUN, run_id: 'run-2', outcome: 'failure', error: 'connect ECONNREFUSED', items: 0, details: '{}' },
  ],
  externalStatus: [
    { ...STATUS_CHANGE, from_status: null },
    { ...STATUS_CHANGE, change_id: 'chg-2', from_status: 'degraded_performance', to_status: 'operational', degraded: false, impact: 'none' },
  ],
  extractions: [
    { ...EXTRACTION, model: 'llama3.1:8b', result: '{"price":"9.99"}', quality: 0.9, raw_answer: '{"result":{"price":"9.99"},"confidence":0.8}', error: null },
    { ...EXTRACTION, extraction_id: 'ext-2', model: null, status: 'model_unavailable', result: null, quality: null, raw_answer: null, error: 'ECONNREFUSED' },
  ],
  proposals: [
    { ...PROPOSAL, incident_id: null, reason: null, decided_by: null, decided_at: null, comment: null, execution: null },
    {
      ...PROPOSAL,
      version: 4,
      status: 'succeeded',
      incident_id: 'inc-1',
      reason: 'dry run',
      decided_by: 'api:alice',
      decided_at: T0 + 60_000,
      comment: 'go',
      execution: {
        started_at: T0 + 61_000,
        ended_at: T0 + 62_000,
        request: 'POST https://api.github.com/…',
        status_code: 204,
        response_excerpt: '',
        duration_ms: 812,
        error: null,
      },
    },
    {
      ...PROPOSAL,
      version: 4,
      status: 'failed',
      incident_id: 'inc-1',
      reason: 'connect ECONNREFUSED',
      decided_by: 'slack:U123',
      decided_at: T0 + 60_000,
      comment: null,
      execution: {
        started_at: T0 + 61_000,
        ended_at: T0 + 62_000,
        request: 'PATCH …',
        status_code: null,
        response_excerpt: '',
        duration_ms: 3,
        error: 'connect ECONNREFUSED',
      },
    },
  ],
  audit: [
    {
      event_id: 'ev-1',
      tenant: 'acme',
      at: T0,
      actor: 'api:alice',
      event: 'approved',
      subject_kind: 'proposal',
      subject_id: 'prop-1',
      service: 'checkout',
      details: '{"comment":"go"}',
    },
  ],
  scrapedPages: [
    {
      page_id: 'page-1',
      tenant: 'acme',
      job_id: 'job-1',
      run_id: 'run-1',
      url: 'https://docs.example.com/a',
      depth: 1,
      status: 200,
      content_type: 'text/html',
      title: 'A',
      text: 'Hello',
      links: ['https://docs.example.com/b'],
      fetched_at: T0,
    },
  ],
};

const at = (path: string, step: string) => (path ? `${path}.${step}` : step);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonNullBranches = (union: avro.Type) => (union as avro.types.UnwrappedUnionType).types.filter((t) => t.typeName !== 'null');
const describeType = (type: avro.Type) =>
  type.typeName.startsWith('union') ? (type as avro.types.UnwrappedUnionType).types.map((t) => t.typeName).join(' | ') : type.typeName;

/**
 * Every place in the schema a value can sit, as a pattern (`signals[].severity`, `labels{}`),
 * and whether null may sit there.
 */
function placesOf(type: avro.Type, place = '', nullable = false, out = new Map<string, { nullable: boolean }>()) {
  if (type.typeName.startsWith('union')) {
    const branches = nonNullBranches(type);
    const hasNull = branches.length < (type as avro.types.UnwrappedUnionType).types.length;
    for (const branch of branches) placesOf(branch, place, hasNull, out);
    return out;
  }
  if (place) out.set(place, { nullable });
  if (type instanceof avro.types.RecordType) for (const f of type.fields) placesOf(f.type, at(place, f.name), false, out);
  if (type instanceof avro.types.ArrayType) placesOf(type.itemsType, `${place}[]`, false, out);
  if (type instanceof avro.types.MapType) placesOf(type.valuesType as avro.Type, `${place}{}`, false, out);
  return out;
}

/**
 * Compares one sample's field names with the schema's, at every depth (avsc only says that a
 * record has an undeclared field, not which), and notes which places it reached and how.
 */
function compareNames(
  type: avro.Type,
  value: unknown,
  path: string,
  place: string,
  report: (path: string, problem: string) => void,
  reached: Map<string, { value: boolean; null: boolean }>,
): void {
  if (type.typeName.startsWith('union')) {
    const branches = nonNullBranches(type);
    if (value !== null && branches.length === 1) return compareNames(branches[0]!, value, path, place, report, reached);
  }
  const seen = reached.get(place) ?? { value: false, null: false };
  reached.set(place, value === null ? { ...seen, null: true } : { ...seen, value: true });
  if (type instanceof avro.types.RecordType && isObject(value)) {
    const fields = new Set(type.fields.map((f) => f.name));
    for (const key of Object.keys(value)) if (!fields.has(key)) report(at(path, key), 'in the TypeScript type, not in the schema');
    for (const f of type.fields) {
      if (!(f.name in value)) report(at(path, f.name), 'in the schema, not in the TypeScript type');
      else compareNames(f.type, value[f.name], at(path, f.name), at(place, f.name), report, reached);
    }
  }
  if (type instanceof avro.types.ArrayType && Array.isArray(value)) {
    for (const [i, item] of value.entries()) compareNames(type.itemsType, item, at(path, String(i)), `${place}[]`, report, reached);
  }
  if (type instanceof avro.types.MapType && isObject(value)) {
    for (const [key, v] of Object.entries(value)) compareNames(type.valuesType as avro.Type, v, at(path, key), `${place}{}`, report, reached);
  }
}

/**
 * Every way `samples` disagree with `schema`, as "path: problem" (a sample's paths start with
 * its index in `samples`); empty when they agree.
 */
function disagreements(schema: string, samples: readonly unknown[]): string[] {
  const type = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
  const found = new Set<string>();
  const reached = new Map<string, { value: boolean; null: boolean }>();
  samples.forEach((sample, i) => {
    const report = (path: string, problem: string) => found.add(`${at(`[${i}]`, path)}: ${problem}`);
    compareNames(type, sample, '', '', report, reached);
    type.isValid(sample, {
      noUndeclaredFields: true,
      errorHook: (path, value, wrong) => {
        // Undeclared and missing fields: compareNames names them (avsc only blames the record).
        if (value === undefined || (wrong instanceof avro.types.RecordType && isObject(value))) return;
        report(path.join('.'), `${JSON.stringify(value)} is not a valid ${describeType(wrong)}`);
      },
    });
  });
  for (const [place, { nullable }] of placesOf(type)) {
    const seen = reached.get(place);
    if (!seen?.value) found.add(`${place}: never holds a value in the samples, so it is never compared`);
    if (nullable && !seen?.null) found.add(`${place}: nullable in the schema, never null in the samples (is \`| null\` missing in TypeScript?)`);
  }
  return [...found];
}

describe('each topic’s TypeScript record type and its .avsc agree', () => {
  it('has samples for every topic, and no record type has optional fields', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(TOPICS).sort());
    expect(noOptionalFields).toBe(true);
  });

  // Fails when a field is added, dropped, renamed or retyped in one of the two places only
  // (the "catches drift" tests below show each case, on copies).
  it.each(Object.keys(TOPICS) as RecordKind[])('%s: field by field, nested records and nullability included', (kind) => {
    expect(disagreements(TOPICS[kind].schema, SAMPLES[kind])).toEqual([]);
  });
});

describe('the comparison catches drift', () => {
  const incident = SAMPLES.incidents[1]!;

  it('names the path of an extra field, a missing field and a wrong type, nested ones included; so does the compiler', () => {
    const drifted: IncidentRecord[] = [
      SAMPLES.incidents[0]!,
      {
        ...incident,
        // @ts-expect-error a string where the type says number: the compiler refuses it too
        version: 'three',
        signals: [
          {
            ...incident.signals[0]!,
            // @ts-expect-error a field the type lacks: the compiler refuses it too
            region: 'eu-west-1',
          },
        ],
        // @ts-expect-error minutes_before left out: the compiler refuses it too
        suspect_deployment: { id: 'dep-1', version: 'v1.4.2', at: T0 },
      },
    ];
    expect(disagreements(TOPICS.incidents.schema, drifted)).toEqual([
      '[1].signals.0.region: in the TypeScript type, not in the schema',
      '[1].suspect_deployment.minutes_before: in the schema, not in the TypeScript type',
      '[1].version: "three" is not a valid int',
      'suspect_deployment.minutes_before: never holds a value in the samples, so it is never compared',
    ]);
  });

  it('names a field added to the schema only, or made non-null, or made nullable there only', () => {
    const schema = JSON.parse(TOPICS.analyses.schema) as { fields: { name: string; type: unknown; default?: unknown }[] };
    const field = (name: string) => schema.fields.find((f) => f.name === name)!;
    field('model').type = 'string'; // TS still says string | null
    delete field('model').default;
    (field('root_cause').type as typeof schema).fields.push({ name: 'evidence', type: 'string' }); // not in TS
    field('severity').type = ['null', 'string']; // TS still says string
    expect(disagreements(JSON.stringify(schema), SAMPLES.analyses)).toEqual([
      '[0].root_cause.evidence: in the schema, not in the TypeScript type',
      '[1].root_cause.evidence: in the schema, not in the TypeScript type',
      '[1].model: null is not a valid string',
      'root_cause.evidence: never holds a value in the samples, so it is never compared',
      'severity: nullable in the schema, never null in the samples (is `| null` missing in TypeScript?)',
    ]);
  });

  it('refuses samples that leave nested records uncompared: an always-empty array, an always-null record', () => {
    const thin = SAMPLES.incidents.map((r) => ({ ...r, signals: [], suspect_deployment: null }));
    expect(disagreements(TOPICS.incidents.schema, thin)).toEqual([
      'signals[]: never holds a value in the samples, so it is never compared',
      'signals[].id: never holds a value in the samples, so it is never compared',
      'signals[].kind: never holds a value in the samples, so it is never compared',
      'signals[].at: never holds a value in the samples, so it is never compared',
      'signals[].summary: never holds a value in the samples, so it is never compared',
      'signals[].severity: never holds a value in the samples, so it is never compared',
      'signals[].severity: nullable in the schema, never null in the samples (is `| null` missing in TypeScript?)',
      'suspect_deployment: never holds a value in the samples, so it is never compared',
      'suspect_deployment.id: never holds a value in the samples, so it is never compared',
      'suspect_deployment.version: never holds a value in the samples, so it is never compared',
      'suspect_deployment.at: never holds a value in the samples, so it is never compared',
      'suspect_deployment.minutes_before: never holds a value in the samples, so it is never compared',
    ]);
  });
});
