import { randomUUID } from 'node:crypto';
import snappy from 'snappy';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES, recordBytes } from '../platform/publisher.ts';
import { protoType } from '../gateway/protocols/protobuf.ts';
import { sendToDeadLetter } from '../processors/runtime/dead-letter.ts';
import { streamsOf, toLogBatch } from '../schemas/log-batch.ts';
import { DEAD_LETTER_TOPIC, TOPICS, type LogEntry } from '../schemas/topics.ts';
import { eventually, startTestPipeline, topicEnd, type TestPipeline } from './helpers/pipeline.ts';

/**
 * Records Kafka can never take, and alerts out of time or size bounds, on the
 * real stack. Each request is [normal, too large]: the answer is a 4xx naming
 * the item, and the topic's end offsets do not move (nothing of it written).
 *
 * Before the record-size check, every protocol answered 503 with Retry-After
 * after the produce timeout (the broker refuses a batch over its message size
 * on every retry) and the normal record had been written in its own send, so
 * each case below failed on both the status and the topic end.
 */
const WriteRequest = protoType('prometheus-remote-write-1.proto', 'prometheus.WriteRequest');
const V1 = { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy', 'x-prometheus-remote-write-version': '0.1.0' };

let p: TestPipeline;
const now = Date.now();

beforeAll(async () => {
  // The default body limit (16 MB): the 2 MB requests below reach the record check, not the body limit.
  p = await startTestPipeline('oversize', { processors: [] });
});
afterAll(async () => p?.stop());

/** 10k labels of 200 characters: 2 MB of labels, each label within every per-label cap. Every value differs: a metric batch's symbol table would store one shared value once. */
const manyLabels = (): Record<string, string> => {
  const labels: Record<string, string> = {};
  for (let i = 0; i < 10_000; i++) labels[`l${String(i).padStart(5, '0')}`] = String(i).padStart(200, 'v');
  return labels;
};

const send = (path: string, body: Uint8Array | string | object, headers: Record<string, string> = {}) => p.post(path, body, p.keys.a, headers);

async function expectNothingWritten(topic: string, request: () => Promise<Response>): Promise<any> {
  const before = await topicEnd(p.services.kafka, topic);
  const res = await request();
  const body = (await res.json()) as any;
  expect(await topicEnd(p.services.kafka, topic)).toBe(before);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), error: body.error };
}

describe('a record Kafka can never take refuses its whole request with 413, on every protocol', () => {
  const alert = (labels: Record<string, string>) => ({
    status: 'firing',
    labels: { alertname: 'Big', service: 'svc', ...labels },
    annotations: {},
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: '',
    fingerprint: randomUUID().slice(0, 16),
  });
  const ns = (ms: number) => `${ms}000000`;

  const cases: Array<[string, string, () => Promise<Response>, string]> = [
    [
      'JSON metrics',
      TOPICS.metricBatches.topic,
      () =>
        send('/v1/metrics', [
          { timestamp: now, metric_name: 'm', value: 1, labels: { service: 'svc' } },
          { timestamp: now, metric_name: 'm', value: 2, labels: { service: 'svc', ...manyLabels() } },
        ]),
      'metrics',
    ],
    [
      'JSON logs',
      TOPICS.logBatches.topic,
      () =>
        send('/v1/logs', [
          { timestamp: now, level: 'info', message: 'normal', service: 'svc' },
          { timestamp: now, level: 'info', message: 'large', service: 'svc', labels: manyLabels() },
        ]),
      'logs',
    ],
    [
      'Prometheus remote-write',
      TOPICS.metricBatches.topic,
      () => {
        const labels = (extra: Record<string, string>) => Object.entries({ __name__: 'm', job: 'svc', ...extra }).map(([name, value]) => ({ name, value }));
        const body = snappy.compressSync(
          WriteRequest.encode(
            WriteRequest.fromObject({
              timeseries: [
                { labels: labels({}), samples: [{ value: 1, timestamp: now }] },
                { labels: labels(manyLabels()), samples: [{ value: 2, timestamp: now }] },
              ],
            }),
          ).finish(),
        );
        return send('/api/v1/write', body, V1);
      },
      'metrics',
    ],
    [
      'Loki push',
      TOPICS.logBatches.topic,
      () =>
        send('/loki/api/v1/push', {
          streams: [
            { stream: { service_name: 'svc' }, values: [[ns(now), 'normal']] },
            { stream: { service_name: 'svc', ...manyLabels() }, values: [[ns(now), 'large']] },
          ],
        }),
      'logs',
    ],
    [
      'Alertmanager webhook',
      TOPICS.alerts.topic,
      () =>
        send('/v1/alertmanager', {
          version: '4',
          groupKey: '{}',
          status: 'firing',
          receiver: 'autopilot',
          alerts: [alert({}), alert(manyLabels())],
        }),
      'alerts',
    ],
  ];

  it.each(cases)('%s: [normal, oversized] is a 413 naming item 1, and nothing is written', async (_name, topic, request, kind) => {
    const { status, retryAfter, error } = await expectNothingWritten(topic, request);
    expect(status).toBe(413);
    expect(retryAfter).toBeNull(); // not retryable: a sender must not resend it forever
    expect(error.code).toBe('payload_too_large');
    expect(error.message).toContain('nothing was written');
    expect(error.details).toEqual([{ kind, index: 1, bytes: expect.any(Number), limit: MAX_RECORD_BYTES }]);
    expect(error.details[0].bytes).toBeGreaterThan(MAX_RECORD_BYTES);
  });

  it("the limit is the broker's: a log line whose record is exactly MAX_RECORD_BYTES is acknowledged, one byte more is refused unsent", async () => {
    const sized = (messageLength: number): LogEntry => ({
      tenant: p.tenants.a,
      timestamp: now,
      level: 'info',
      message: 'x'.repeat(messageLength),
      service: 'edge',
      labels: {},
    });
    // The line's record as the publisher builds it: a log batch of one stream of one line.
    const size = (r: LogEntry) => {
      const batch = toLogBatch(streamsOf([r]));
      return recordBytes({ key: TOPICS.logBatches.key(batch), value: p.services.catalog.encode('logBatches', batch) });
    };
    const length = 100_000 + MAX_RECORD_BYTES - size(sized(100_000)); // the message's length prefix is 3 bytes from 100k to 1M
    expect(size(sized(length))).toBe(MAX_RECORD_BYTES);

    const topic = TOPICS.logBatches.topic;
    const before = await topicEnd(p.services.kafka, topic);
    await p.publisher.publish('logs', [sized(length)]);
    expect(await topicEnd(p.services.kafka, topic)).toBe(before + 1);
    const refused = await p.publisher.publish('logs', [sized(length + 1)]).catch((err) => err);
    expect(refused).toMatchObject({ code: 'payload_too_large', status: 413, details: [{ kind: 'logs', index: 0, bytes: MAX_RECORD_BYTES + 1 }] });
    expect(await topicEnd(p.services.kafka, topic)).toBe(before + 1);
  });
});

describe('Alertmanager times and labels out of bounds: 400 naming the alert, nothing on the alerts topic', () => {
  const alert = (change: object) => ({
    status: 'firing',
    labels: { alertname: 'Bounds', service: 'svc' },
    annotations: {},
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: '',
    fingerprint: randomUUID().slice(0, 16),
    ...change,
  });
  const webhook = (bad: object) => ({ version: '4', groupKey: '{}', status: 'firing', receiver: 'autopilot', alerts: [alert({}), alert(bad)] });

  // Before the bounds, each of these was a 202 with both alerts on Kafka.
  it.each([
    ['startsAt in 1970', { startsAt: '1970-01-01T00:00:00Z' }, 'alerts.1.startsAt'],
    ['startsAt in 9999', { startsAt: '9999-12-31T23:59:59Z' }, 'alerts.1.startsAt'],
    ['startsAt in 0001', { startsAt: '0001-01-01T00:00:00Z' }, 'alerts.1.startsAt'],
    ['startsAt in 1899', { startsAt: '1899-12-31T00:00:00Z' }, 'alerts.1.startsAt'],
    ['startsAt in 2300', { startsAt: '2300-01-01T00:00:00Z' }, 'alerts.1.startsAt'],
    ['a 100 KB service label', { labels: { alertname: 'Bounds', service: 's'.repeat(100 * 1024) } }, 'alerts.1.labels'],
  ])('%s', async (_name, bad, path) => {
    const { status, error } = await expectNothingWritten(TOPICS.alerts.topic, () => send('/v1/alertmanager', webhook(bad)));
    expect(status).toBe(400);
    expect(error.code).toBe('bad_request');
    expect(error.details).toEqual([{ path, message: expect.any(String) }]);
  });

  it('the same webhook within bounds is accepted', async () => {
    const before = await topicEnd(p.services.kafka, TOPICS.alerts.topic);
    const res = await send('/v1/alertmanager', webhook({ startsAt: new Date(now - 200 * 86_400_000).toISOString() }));
    expect(res.status).toBe(202);
    expect(await topicEnd(p.services.kafka, TOPICS.alerts.topic)).toBe(before + 2);
  });
});

describe("dead letters stay under Kafka's message limit", () => {
  const rejected = (offset: number, value: Buffer, key = 'same-partition') => ({
    message: {
      key: Buffer.from(key),
      value,
      headers: { origin: 'test' },
      offset: String(offset),
      timestamp: String(now),
      attributes: 0,
    } satisfies KafkaMessage,
    partition: 3,
    reason: 'sink: refused by ClickHouse',
  });

  it('a batch of many large rejected records is sent in several sends, all of it (before: one 2.4 MB batch, refused)', async () => {
    const before = await topicEnd(p.services.kafka, DEAD_LETTER_TOPIC);
    const batch = Array.from({ length: 12 }, (_, i) => rejected(i, Buffer.alloc(200 * 1024, i)));
    await sendToDeadLetter(p.publisher, `oversize-${p.tenants.a}`, TOPICS.logs.topic, batch);
    expect(await topicEnd(p.services.kafka, DEAD_LETTER_TOPIC)).toBe(before + 12);
  });

  it('a rejected record too large to ever fit goes as a placeholder with the reason and source position (before: refused)', async () => {
    const processor = `oversize-placeholder-${p.tenants.a}`;
    await sendToDeadLetter(p.publisher, processor, TOPICS.logs.topic, [rejected(41, Buffer.alloc(MAX_RECORD_BYTES, 1), 'x')]);

    const consumer = p.services.kafka.consumer({ groupId: `dlq-reader-${p.tenants.a}` });
    const seen: { key: Buffer | null; value: Buffer | null; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: DEAD_LETTER_TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        if (headers['autopilot-processor'] === processor) seen.push({ key: message.key, value: message.value, headers });
      },
    });
    await eventually(
      async () => seen.length,
      (n) => n === 1,
      60_000,
    );
    await consumer.disconnect();
    expect(seen[0]).toEqual({
      key: null,
      value: null,
      headers: {
        'autopilot-source-topic': TOPICS.logs.topic,
        'autopilot-source-partition': '3',
        'autopilot-source-offset': '41',
        'autopilot-processor': processor,
        'autopilot-reason': 'sink: refused by ClickHouse',
        'autopilot-placeholder': expect.stringContaining(`over Kafka's limit of ${MAX_RECORD_BYTES}`),
      },
    });
  });
});
