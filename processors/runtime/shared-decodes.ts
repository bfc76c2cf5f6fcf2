import type { KafkaMessage } from 'kafkajs';

/**
 * Records decoded once for every processor of a process that reads them.
 *
 * Sink, rollup and detect each read every metric batch record, in consumer
 * groups of their own but in one process, and mostly within a second of one
 * another: each decoding and identifying the same record again was a sixth
 * of the processors' CPU at 50k points/s. So the first to read a record
 * decodes it, and the others get the same value (handlers only read what
 * they are given).
 *
 * Kept in two generations of about `capacity` items each (samples, log
 * lines): a consumer that falls further behind than that decodes for itself.
 * A record is known by topic, partition and offset, confirmed by its length
 * and timestamp (a topic deleted and made again restarts its offsets).
 */
export class SharedDecodes {
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private youngItems = 0;

  constructor(private readonly capacity = 100_000) {}

  async get(topic: string, partition: number, message: KafkaMessage, decode: () => Promise<unknown>, itemsOf: (value: unknown) => number): Promise<unknown> {
    const key = `${topic}/${partition}/${message.offset}`;
    const known = this.young.get(key) ?? this.old.get(key);
    if (known && known.length === message.value?.length && known.timestamp === message.timestamp) return known.value;
    const value = await decode();
    if (this.youngItems >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
      this.youngItems = 0;
    }
    this.young.set(key, { value, length: message.value?.length, timestamp: message.timestamp });
    this.youngItems += itemsOf(value);
    return value;
  }
}

interface Entry {
  value: unknown;
  length: number | undefined;
  timestamp: string;
}
