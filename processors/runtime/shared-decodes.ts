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
 * Kept in two generations of about `capacityBytes` of encoded records each
 * (decoded, a record takes a few times that): a consumer that falls further
 * behind than that decodes for itself. Bytes, not samples: at 100k series a
 * record carries every series' labels for one sample each, and a cache of
 * 100k samples held 300 MB (bench:memory).
 * A record is known by topic, partition and offset, confirmed by its length
 * and timestamp (a topic deleted and made again restarts its offsets).
 */
export class SharedDecodes {
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  private youngBytes = 0;

  constructor(private readonly capacityBytes = 4 * 1024 * 1024) {}

  async get(topic: string, partition: number, message: KafkaMessage, decode: () => Promise<unknown>): Promise<unknown> {
    const key = `${topic}/${partition}/${message.offset}`;
    const known = this.young.get(key) ?? this.old.get(key);
    if (known && known.length === message.value?.length && known.timestamp === message.timestamp) return known.value;
    const value = await decode();
    if (this.youngBytes >= this.capacityBytes) {
      this.old = this.young;
      this.young = new Map();
      this.youngBytes = 0;
    }
    this.young.set(key, { value, length: message.value?.length, timestamp: message.timestamp });
    this.youngBytes += message.value?.length ?? 0;
    return value;
  }
}

interface Entry {
  value: unknown;
  length: number | undefined;
  timestamp: string;
}
