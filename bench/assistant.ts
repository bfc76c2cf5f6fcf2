/**
 * Assistant benchmark: Autopilot's own time per answered question, with the
 * Ollama stand-in answering at once, so what is measured is everything
 * around the model: the route, the session's history read, three tool calls
 * against ClickHouse (open incidents of a service, its latency series over
 * the last hour, its deployments), the answer checked and its evidence
 * resolved, and the turn stored.
 *
 *   npm run bench:assistant [-- --json] [--questions 200] [--services 50]
 *
 * In one process: an embedded ClickHouse in a fresh temporary folder, seeded
 * as the sink and the processors would have written it for two tenants (so
 * every query also skips another tenant's rows): per service, two hours of
 * 1-minute latency rollups, deployments, error logs, an anomaly, and an
 * incident for every fifth service; the gateway app (`app.request`, no
 * socket) with its real assistant and stores; the stand-in on a loopback
 * port. Questions go one after another, ten per session, so the history
 * grows as in a conversation. Aim (issue 15): p95 under 500 ms.
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { assistantConfig } from '../assistant/config.ts';
import { createAssistant } from '../assistant/service.ts';
import { createApp } from '../gateway/app.ts';
import { TenantRateLimiter } from '../gateway/middleware/rate-limit.ts';
import { createStores } from '../gateway/stores.ts';
import { gatewayTelemetry } from '../gateway/telemetry.ts';
import { createLogger } from '../lib/log.ts';
import { openClickHouse, seedFleet } from '../test/helpers/assistant-data.ts';
import { startOllamaStandIn, type Behaviour } from '../test/helpers/ollama-stand-in.ts';
import { stubPublisher } from '../test/helpers/publisher-stub.ts';
import { percentile } from './load.ts';

const { values: opts } = parseArgs({
  options: {
    json: { type: 'boolean' },
    questions: { type: 'string', default: '200' },
    services: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '10' },
  },
});
const QUESTIONS = Number(opts.questions);
const SERVICES = Number(opts.services);
const WARMUP = Number(opts.warmup);
const say = (m: string) => process.stderr.write(`${m}\n`);

const ch = await openClickHouse('bench-assistant');
const now = Date.now();
const services = Array.from({ length: SERVICES }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
say(`seeding ${SERVICES} services × 2 tenants…`);
await seedFleet(ch, ['bench', 'other'], services, now);

const ollama = await startOllamaStandIn();
const env = { OLLAMA_HOST: ollama.url, ASSISTANT_MODEL: 'stand-in:latest' };
const registry = new Registry();
const app = createApp({
  config: { apiKeys: new Map([['bench-key', 'bench']]), adminKey: 'bench-admin-key', maxBodyBytes: 1 << 20, maxBatch: 1000, clickhouseUrl: undefined },
  publisher: stubPublisher(),
  limiter: new TenantRateLimiter(0),
  telemetry: gatewayTelemetry(registry),
  registry,
  checks: [],
  clickhouse: ch,
  stores: createStores(ch),
  assistant: createAssistant(ch, assistantConfig(env)),
  log: createLogger('bench-assistant', 'warn'),
});
const request = async (path: string, body: unknown) => {
  const res = await app.request(path, {
    method: 'POST',
    headers: { authorization: 'Bearer bench-key', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};

const script = (service: string, incident: string): Behaviour[] => [
  { kind: 'tool_calls', calls: [{ name: 'incidents', arguments: { service, status: 'open' } }] },
  { kind: 'tool_calls', calls: [{ name: 'metric_series', arguments: { service, metric: 'http_request_duration_ms', since: '1h' } }] },
  { kind: 'tool_calls', calls: [{ name: 'deployments', arguments: { service, since: '6h' } }] },
  {
    kind: 'answer',
    body: {
      summary: `${service} is slow since its last deployment`,
      findings: [
        { statement: 'an incident is open', evidence: [`incident:${incident}`] },
        { statement: 'latency rose', evidence: [`series:${service}:http_request_duration_ms`] },
      ],
      next_steps: ['roll back'],
      confidence: 70,
    },
  },
];

const total: number[] = [];
const tools: number[] = [];
let session = '';
let unsupported = 0;
for (let q = 0; q < WARMUP + QUESTIONS; q++) {
  if (q % 10 === 0) session = String((await request('/v1/assistant/sessions', { title: `bench ${q}` })).session_id);
  const i = (q * 5) % SERVICES;
  const service = services[i]!;
  ollama.reset();
  ollama.script(...script(service, `bench-${service}-inc`));
  const started = performance.now();
  const reply = await request(`/v1/assistant/sessions/${session}/messages`, { question: `Why is ${service} slow?` });
  const ms = performance.now() - started;
  if (reply.source !== 'llm') throw new Error(`question ${q} answered by ${String(reply.source)}: ${JSON.stringify(reply).slice(0, 300)}`);
  unsupported += (reply.findings as { unsupported: string[] }[]).reduce((n, f) => n + f.unsupported.length, 0);
  if (q < WARMUP) continue;
  total.push(ms);
  tools.push((reply.trace as { kind: string; duration_ms: number }[]).filter((s) => s.kind === 'tool').reduce((n, s) => n + s.duration_ms, 0));
}
total.sort((a, b) => a - b);
tools.sort((a, b) => a - b);
const figures = {
  questions: QUESTIONS,
  services: SERVICES,
  tool_calls_per_question: 3,
  p50_ms: Math.round(percentile(total, 0.5)),
  p95_ms: Math.round(percentile(total, 0.95)),
  p99_ms: Math.round(percentile(total, 0.99)),
  mean_ms: Math.round(total.reduce((a, b) => a + b, 0) / total.length),
  tools_p50_ms: Math.round(percentile(tools, 0.5)),
  tools_p95_ms: Math.round(percentile(tools, 0.95)),
  unsupported_refs: unsupported,
};
if (opts.json) console.log(JSON.stringify(figures));
else {
  say(`\n${QUESTIONS} questions (3 tool calls each, stand-in answering at once), ${SERVICES} services × 2 tenants:`);
  say(`  per question: p50 ${figures.p50_ms} ms, p95 ${figures.p95_ms} ms, p99 ${figures.p99_ms} ms, mean ${figures.mean_ms} ms`);
  say(`  of which the three tools: p50 ${figures.tools_p50_ms} ms, p95 ${figures.tools_p95_ms} ms`);
  say(`  evidence refs no tool returned: ${unsupported} (should be 0: every cited incident and series exists)`);
}
await ollama.close();
await ch.close();
process.exit(0);
