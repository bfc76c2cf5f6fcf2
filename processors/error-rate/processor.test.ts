import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { Redis } from 'ioredis';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamsOf, toLogBatch } from '../../schemas/log-batch.ts';
import { TOPICS, type LogBatch, type LogEntry } from '../../schemas/topics.ts';
import { stubPublisher } from '../../test/helpers/publisher-stub.ts';
import type { Decoded } from '../runtime/processor.ts';
import { errorRateConfig } from './config.ts';
import { errorRateProcessor } from './processor.ts';

/**
 * The error-rate processor on log batch records, with the test stack's Redis
 * and a stub publisher for its anomalies: each record is read stream by
 * stream, and an error line counts once by content however many records
 * carry it. The retried request below doubles every error of the spike
 * minute: counted by offset (or without the line identity) the minute holds
 * 20 errors, not 10; and two pods' lines with the same text and time are
 * two lines, so counted by service alone it would hold 5.
 */
const MIN = 60_000;
const type = avro.Type.forSchema(JSON.parse(TOPICS.logBatches.schema));

let redis: Redis;
const groupId = `error-rate-test-${randomUUID()}`;
beforeAll(() => {
  redis = new Redis(process.env.REDIS_URL!);
});
afterAll(async () => {
  const keys = await redis.keys(`${groupId}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('error-rate on log batches', () => {
  it('counts each error line of a service once per minute, by content, across streams and retried records', async () => {
    const publisher = stubPublisher();
    const proc = errorRateProcessor({ redis, publisher, config: errorRateConfig({}), groupId });
    let offset = 0;
    const handle = (entries: LogEntry[]) => {
      // Through Avro, as the runtime hands records over: levels come back as the enum's strings.
      const value = type.fromBuffer(type.toBuffer(toLogBatch(streamsOf(entries)))) as LogBatch;
      const d: Decoded = { topic: TOPICS.logBatches.topic, partition: 0, offset: String(offset++), value, message: {} as KafkaMessage };
      return proc.handle([d], { finalAttempt: false });
    };
    const line = (timestamp: number, level: string, message: string, pod = 'api-1'): LogEntry => ({
      tenant: 'acme',
      timestamp,
      level,
      message,
      service: 'api',
      labels: { pod },
    });

    const M0 = Math.floor(Date.now() / MIN) * MIN - 40 * MIN;
    // Twenty quiet minutes: the service's history is no errors.
    for (let m = 0; m < 20; m++) await handle([line(M0 + m * MIN + 1000, 'info', 'GET / 200'), line(M0 + m * MIN + 2000, 'debug', 'tick')]);
    const spike = M0 + 20 * MIN;
    const errors = [0, 1, 2, 3, 4].flatMap((i) => ['api-1', 'api-2'].map((pod) => line(spike + 1000 + i * 1000, 'error', `timeout ${i}`, pod)));
    const request = [...errors, line(spike + 9000, 'info', 'GET / 200')];
    await handle(request);
    await handle(request); // the sender retried: new offsets, the same lines
    expect(publisher.records('anomalies')).toEqual([]);
    await handle([line(spike + 2 * MIN, 'info', 'GET / 200')]); // past the spike minute and its lateness: it closes

    const anomalies = publisher.records('anomalies');
    expect(anomalies.map((a) => [a.detected_at - MIN, a.current_value, a.kind, a.service])).toEqual([[spike, 10, 'error_rate', 'api']]);
    expect(anomalies[0]).toMatchObject({ severity: 'critical', source_topic: TOPICS.logBatches.topic });
  });
});
