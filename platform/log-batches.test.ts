import avro from 'avsc';
import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { entriesOf, streamsOf } from '../schemas/log-batch.ts';
import { partitionOf, TOPICS, type LogBatch, type LogEntry } from '../schemas/topics.ts';
import { CHUNK_BYTES, encodeLogBatches, MAX_RECORD_BYTES, recordBytes } from './publisher.ts';

/**
 * The publisher's log path without Kafka: a request's lines become one record
 * per tenant and partition, each within CHUNK_BYTES, and a line Kafka could
 * never take refuses the request before anything is sent. Before log batches,
 * `encodeLogBatches` did not exist and every line was a record of its own
 * (the first test's one record was a thousand); the same limit rule applied
 * per line (test/oversize.test.ts checks it on the real broker).
 */
const type = avro.Type.forSchema(JSON.parse(TOPICS.logBatches.schema));
const HEADER = Buffer.from([0, 0, 0, 0, 42]);
const encode = (b: LogBatch) => Buffer.concat([HEADER, type.toBuffer(b)]);
const decode = (m: Message) => type.fromBuffer((m.value as Buffer).subarray(5)) as LogBatch;

const now = Date.UTC(2026, 11, 1);
const line = (i: number, message: string, service = `svc-${i % 10}`): LogEntry => ({
  tenant: 'acme',
  timestamp: now + i,
  level: i % 7 === 0 ? 'error' : 'info',
  message,
  service,
  labels: { pod: `${service}-${i % 3}` },
});
const sorted = (es: LogEntry[]) => es.map((e) => JSON.stringify(e)).sort();

describe('log lines as batch records', () => {
  it('one record per tenant and partition, on the partition of each stream’s service, keyed by its first stream', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => line(i, `GET /item/${i} 200`));
    const one = encodeLogBatches(encode, streamsOf(lines), 1);
    expect(one).toHaveLength(1);
    expect(sorted(entriesOf(decode(one[0]!)))).toEqual(sorted(lines));

    const messages = encodeLogBatches(encode, streamsOf(lines), 4);
    expect(messages.length).toBeLessThanOrEqual(4);
    for (const m of messages) {
      const batch = decode(m);
      const services = new Set(batch.streams.map((s) => batch.symbols[s.service_ref]!));
      for (const service of services) expect(partitionOf(`acme\u0000${service}`, 4)).toBe(m.partition);
      expect(m.key).toBe(TOPICS.logBatches.key(batch));
      expect(partitionOf(String(m.key), 4)).toBe(m.partition);
    }
    expect(sorted(messages.flatMap((m) => entriesOf(decode(m))))).toEqual(sorted(lines));
  });

  it('cuts a large request into records within CHUNK_BYTES, non-ASCII text (which the estimate undercounts) halved again, nothing lost', () => {
    // 6 MB of text: ASCII lines and lines of 3-byte characters, the estimate's worst case.
    const lines = Array.from({ length: 3000 }, (_, i) => line(i, i % 2 ? `${i} ${'x'.repeat(1500)}` : `${i} ${'€'.repeat(700)}`));
    const messages = encodeLogBatches(encode, streamsOf(lines), 2);
    expect(messages.length).toBeGreaterThan(20);
    for (const m of messages) expect(recordBytes(m)).toBeLessThanOrEqual(CHUNK_BYTES);
    expect(sorted(messages.flatMap((m) => entriesOf(decode(m))))).toEqual(sorted(lines));
  });

  it("the limit is the broker's: a line whose record is exactly MAX_RECORD_BYTES goes alone, one byte more refuses the request (413) naming the item", () => {
    const single = (length: number) => line(1, 'x'.repeat(length), 'edge');
    const size = (length: number) => recordBytes(encodeLogBatches(encode, streamsOf([single(length)]), 1)[0]!);
    const length = 500_000 + MAX_RECORD_BYTES - size(500_000); // the text's length prefix is 3 bytes from 16k to 2M
    expect(size(length)).toBe(MAX_RECORD_BYTES);

    const fits = encodeLogBatches(encode, streamsOf([line(0, 'normal', 'edge'), single(length)]), 1);
    expect(fits.map(recordBytes)).toEqual([expect.any(Number), MAX_RECORD_BYTES]);

    let refused: unknown;
    try {
      encodeLogBatches(encode, streamsOf([line(0, 'normal', 'edge'), single(length + 1)]), 1);
    } catch (err) {
      refused = err;
    }
    expect(refused).toMatchObject({
      code: 'payload_too_large',
      status: 413,
      details: [{ kind: 'logs', index: 1, bytes: MAX_RECORD_BYTES + 1, limit: MAX_RECORD_BYTES }],
    });
    expect(String((refused as Error).message)).toContain('nothing was written');
  });
});
