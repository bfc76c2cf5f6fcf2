import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyValueMsg, SpanMsg, TracesRequestMsg } from '../gateway/protocols/otlp/messages.ts';
import { toSpans } from '../gateway/protocols/otlp/traces.ts';
import { CHUNK_BYTES, encodeSpanBatches, MAX_RECORD_BYTES, recordBytes } from '../platform/publisher.ts';
import { partitionOf, TOPICS, type Span } from '../schemas/topics.ts';
import { eventually, startTestPipeline, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Spans on the real stack (Kafka, the schema registry, the sink into chdb):
 * OTLP spans converted (toSpans), published as span batch records (one per
 * partition of their traces), and written by the sink to `spans`, each span
 * exactly once with its attributes, events and links, also when the same
 * spans are published again, and when a request is cut at the size limit.
 * Before this change there was no span topic, record or table: every test
 * here fails on the code before it. (The OTLP route is tested with it.)
 */
let p: TestPipeline;
const now = Date.now();
const NS = 1_000_000;

beforeAll(async () => {
  p = await startTestPipeline('spans', { processors: ['sink'] });
});
afterAll(async () => p?.stop());

const str = (key: string, value: string): KeyValueMsg => ({ key, value: { value: 'string_value', string_value: value } as KeyValueMsg['value'] & object });
const id = (n: number, bytes: number) => new Uint8Array(Buffer.from(n.toString(16).padStart(2 * bytes, '0'), 'hex'));

/**
 * Spans of `traces` traces × 4 spans each for one service. Starts are whole
 * microseconds, and the table's nanoseconds are within a quarter of one of
 * them (a double of epoch ns, then of epoch ms): rowsOf reads them rounded
 * to the microsecond, which gives back the exact one.
 */
function otlpSpans(service: string, traces: number, firstTrace: number, statusMessage = ''): TracesRequestMsg {
  const spans: SpanMsg[] = [];
  for (let t = 0; t < traces; t++) {
    for (let k = 0; k < 4; k++) {
      const start = (now - 60_000 + t * 10 + k) * NS + 123_000;
      spans.push({
        trace_id: id(firstTrace + t, 16),
        span_id: id((firstTrace + t) * 16 + k + 1, 8),
        parent_span_id: k === 0 ? new Uint8Array(0) : id((firstTrace + t) * 16 + 1, 8),
        trace_state: k === 1 ? 'vendor=abc' : '',
        flags: 1,
        name: k === 0 ? 'GET /cart' : `db query ${k}`,
        kind: k === 0 ? 2 : 3,
        start_time_unix_nano: start,
        end_time_unix_nano: start + 2_048_000,
        attributes: [str('http.route', '/cart'), str('span.index', String(k))],
        events: k === 2 ? [{ time_unix_nano: start + 1_000_000, name: 'exception', attributes: [str('exception.type', 'Timeout')] }] : [],
        links: k === 3 ? [{ trace_id: id(999, 16), span_id: id(998, 8), trace_state: 'x=1', attributes: [str('link.reason', 'retry')] }] : [],
        status: k === 2 ? { code: 2, message: statusMessage || 'timeout' } : { code: 0, message: '' },
      });
    }
  }
  return {
    resource_spans: [
      {
        resource: { attributes: [str('service.name', service), str('host.name', `${service}-host`)], dropped_attributes_count: 0 },
        scope_spans: [{ scope: { name: 'autopilot-test', version: '1.0.0', attributes: [] }, spans }],
      },
    ],
  };
}

interface Row {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  trace_state: string;
  name: string;
  kind: string;
  service: string;
  resource_attributes: Record<string, string>;
  scope_name: string;
  scope_version: string;
  span_attributes: Record<string, string>;
  us: string;
  duration_ns: string;
  status_code: string;
  status_message: string;
  event_us: string[];
  event_names: string[];
  event_attributes: Record<string, string>[];
  link_trace_ids: string[];
  link_span_ids: string[];
  link_trace_states: string[];
  link_attributes: Record<string, string>[];
}

const rowsOf = (tenant: string, where = '1') =>
  p.rows<Row>(
    `SELECT trace_id, span_id, parent_span_id, trace_state, name, kind, service, resource_attributes, scope_name, scope_version, span_attributes,
            toString(intDiv(toUnixTimestamp64Nano(timestamp) + 500, 1000)) AS us, toString(duration_ns) AS duration_ns, status_code, status_message,
            arrayMap(t -> toString(intDiv(toUnixTimestamp64Nano(t) + 500, 1000)), events.timestamp) AS event_us, events.name AS event_names,
            events.attributes AS event_attributes, links.trace_id AS link_trace_ids, links.span_id AS link_span_ids,
            links.trace_state AS link_trace_states, links.attributes AS link_attributes
     FROM spans FINAL WHERE tenant = {t:String} AND ${where} ORDER BY trace_id, span_id`,
    { t: tenant },
  );
const count = async (tenant: string) =>
  Number((await p.rows<{ c: string }>('SELECT count() AS c FROM spans FINAL WHERE tenant = {t:String}', { t: tenant }))[0]!.c);

/** What the table should hold for a span, in rowsOf's shape. */
const expected = (s: Span): Row => ({
  trace_id: s.trace_id,
  span_id: s.span_id,
  parent_span_id: s.parent_span_id,
  trace_state: s.trace_state,
  name: s.name,
  kind: s.kind,
  service: s.service,
  resource_attributes: s.resource_attributes,
  scope_name: s.scope_name,
  scope_version: s.scope_version,
  span_attributes: s.span_attributes,
  us: String(Math.round(s.start_time_unix_nano / 1000)),
  duration_ns: String(s.duration_ns),
  status_code: s.status_code,
  status_message: s.status_message,
  event_us: s.events.map((e) => String(Math.round(e.time_unix_nano / 1000))),
  event_names: s.events.map((e) => e.name),
  event_attributes: s.events.map((e) => e.attributes),
  link_trace_ids: s.links.map((l) => l.trace_id),
  link_span_ids: s.links.map((l) => l.span_id),
  link_trace_states: s.links.map((l) => l.trace_state),
  link_attributes: s.links.map((l) => l.attributes),
});
const byIds = (a: { trace_id: string; span_id: string }, b: { trace_id: string; span_id: string }) =>
  a.trace_id === b.trace_id ? a.span_id.localeCompare(b.span_id) : a.trace_id.localeCompare(b.trace_id);

/** Publishes, then waits until the sink has committed past every span batch record written (it commits a record only after its rows are in). */
async function publishedAndWritten(spans: Span[]): Promise<number> {
  const admin = p.services.kafka.admin();
  await admin.connect();
  try {
    const topic = TOPICS.spans.topic;
    const before = await admin.fetchTopicOffsets(topic);
    await p.publisher.publishAll([{ kind: 'spans', spans }]);
    const after = await admin.fetchTopicOffsets(topic);
    const written = after.filter((e) => e.high !== before.find((b) => b.partition === e.partition)?.high);
    await eventually(
      async () => (await admin.fetchOffsets({ groupId: `${p.config.groupPrefix}-sink`, topics: [topic] }))[0]!.partitions,
      (committed) => written.every((e) => BigInt(committed.find((c) => c.partition === e.partition)?.offset ?? '-1') >= BigInt(e.high)),
      60_000,
    );
    return written.reduce((n, e) => n + Number(e.high) - Number(before.find((b) => b.partition === e.partition)?.high ?? 0), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('spans', () => {
  // Made once the pipeline (and so the tenant) exists.
  let spans: Span[] = [];

  it('a request’s spans are one record per partition of their traces, and every span lands once with its attributes, events and links', async () => {
    const converted = ['cart', 'checkout', 'search'].map((service, i) => toSpans(p.tenants.a, otlpSpans(service, 10, 1 + i * 100), now));
    spans = converted.flatMap((c) => c.spans);
    expect(converted.map((c) => [c.total, c.invalid, c.outOfWindow])).toEqual([
      [40, 0, 0],
      [40, 0, 0],
      [40, 0, 0],
    ]);
    const touched = new Set(spans.map((s) => partitionOf(`${s.tenant}\u0000${s.trace_id}`, p.config.topicPartitions))).size;
    expect(await publishedAndWritten(spans)).toBe(touched);

    const rows = await rowsOf(p.tenants.a);
    expect(rows).toHaveLength(120);
    expect(rows).toEqual(spans.map(expected).sort(byIds));
    // Spot checks of the shape, beside the field-by-field comparison.
    const failed = rows.find((r) => r.status_code === 'Error')!;
    expect(failed).toMatchObject({
      kind: 'Client',
      status_message: 'timeout',
      event_names: ['exception'],
      event_attributes: [{ 'exception.type': 'Timeout' }],
    });
    expect(rows.filter((r) => r.parent_span_id === '')).toHaveLength(30);
  });

  it('the same spans published again (new records, new offsets) are the same rows', async () => {
    await publishedAndWritten(spans.slice(0, 50));
    expect(await count(p.tenants.a)).toBe(120);
    const ids = await p.rows<{ n: string }>('SELECT uniqExact(trace_id, span_id) AS n FROM spans WHERE tenant = {t:String}', { t: p.tenants.a });
    expect(Number(ids[0]!.n)).toBe(120);
  });

  it('a request over CHUNK_BYTES on one partition is cut into records within it, and a span whose record is exactly the broker’s limit goes alone; all written', async () => {
    // One trace (one partition) of 200 spans of ~5 kB each: about 1 MB, four times CHUNK_BYTES.
    const big = toSpans(p.tenants.b, otlpSpans('bulk', 1, 5000, 'e'.repeat(5000)), now).spans;
    const many = Array.from({ length: 50 }, (_, copy) =>
      big.map((s) => ({ ...s, span_id: `${copy.toString(16).padStart(4, '0')}${s.span_id.slice(4)}`, status_message: 'x'.repeat(5000) })),
    ).flat();
    const encode = (b: Parameters<typeof p.services.catalog.encode<'spans'>>[1]) => p.services.catalog.encode('spans', b);
    const records = encodeSpanBatches(encode, many, p.config.topicPartitions);
    expect(records.length).toBeGreaterThan(3);
    for (const m of records) expect(recordBytes(m)).toBeLessThanOrEqual(CHUNK_BYTES);

    // A span whose record is exactly MAX_RECORD_BYTES: the broker takes it, the sink writes it.
    const sized = (length: number): Span => ({ ...big[0]!, span_id: 'ffffffffffffff01', status_message: 'z'.repeat(length) });
    const size = (length: number) => recordBytes(encodeSpanBatches(encode, [sized(length)], p.config.topicPartitions)[0]!);
    const length = 100_000 + MAX_RECORD_BYTES - size(100_000);
    expect(size(length)).toBe(MAX_RECORD_BYTES);

    expect(await publishedAndWritten([...many, sized(length)])).toBe(records.length + 1);
    expect(await count(p.tenants.b)).toBe(many.length + 1);
    const edge = await rowsOf(p.tenants.b, `span_id = 'ffffffffffffff01'`);
    expect(edge.map((r) => r.status_message.length)).toEqual([length]);
    const sample = await rowsOf(p.tenants.b, `span_id = '${many[137]!.span_id}'`);
    expect(sample).toEqual([expected(many[137]!)]);
  });
});
