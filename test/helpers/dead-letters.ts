import type { Kafka } from 'kafkajs';
import { DEAD_LETTER_TOPIC } from '../../schemas/topics.ts';
import { eventually } from './pipeline.ts';

export interface DeadLetter {
  key: string;
  reason: string;
  processor: string;
  sourceTopic: string;
  value: Buffer | null;
}

/** Reads the dead-letter topic from the start until `count` letters pass `match`; returns those. */
export async function readDeadLetters(kafka: Kafka, match: (d: DeadLetter) => boolean, count: number, ms = 30_000): Promise<DeadLetter[]> {
  const consumer = kafka.consumer({ groupId: `dlq-reader-${Math.random().toString(36).slice(2)}` });
  const seen: DeadLetter[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: DEAD_LETTER_TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = message.headers ?? {};
        const letter = {
          key: message.key?.toString() ?? '',
          reason: String(h['autopilot-reason']),
          processor: String(h['autopilot-processor']),
          sourceTopic: String(h['autopilot-source-topic']),
          value: message.value,
        };
        if (match(letter)) seen.push(letter);
      },
    });
    await eventually(
      async () => seen.length,
      (n) => n >= count,
      ms,
    );
    return seen;
  } finally {
    await consumer.disconnect();
  }
}
