import type { IHeaders, KafkaMessage, Producer } from 'kafkajs';
import { DEAD_LETTER_TOPIC } from '../../schemas/topics.ts';

export interface Rejected {
  message: KafkaMessage;
  partition: number;
  reason: string;
}

/**
 * Records that can never be processed go to one dead-letter topic, byte for
 * byte as they came, with where they came from and why in headers. The send is
 * acknowledged (acks=all) before the source offset is committed, so a rejected
 * record is never simply gone.
 */
export async function sendToDeadLetter(producer: Producer, processor: string, sourceTopic: string, rejected: Rejected[]): Promise<void> {
  if (rejected.length === 0) return;
  await producer.send({
    topic: DEAD_LETTER_TOPIC,
    acks: -1,
    messages: rejected.map((r) => ({
      key: r.message.key,
      value: r.message.value,
      headers: {
        ...copyHeaders(r.message.headers),
        'autopilot-source-topic': sourceTopic,
        'autopilot-source-partition': String(r.partition),
        'autopilot-source-offset': r.message.offset,
        'autopilot-processor': processor,
        'autopilot-reason': r.reason.slice(0, 2000),
      },
    })),
  });
}

function copyHeaders(headers: IHeaders | undefined): Record<string, Buffer | string> {
  const out: Record<string, Buffer | string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined && !Array.isArray(v)) out[k] = v;
  return out;
}
