import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { MAX_RECORD_BYTES, recordBytes, type Publisher } from '../../platform/publisher.ts';
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
 *
 * Sends are cut below Kafka's message limit by the publisher (a batch of
 * many large rejected records would otherwise be refused on every retry, and
 * the partition would never move on). A record that cannot fit even alone
 * (a source record near the limit plus our headers, or a source topic allowing
 * more than the dead-letter topic) goes as a placeholder: no key or value,
 * the source position, the reason, and why it was cut. Truncating it instead
 * would leave bytes that look like a record and decode as nothing; the
 * original stays readable at its source position until that topic's retention.
 */
export async function sendToDeadLetter(publisher: Publisher, processor: string, sourceTopic: string, rejected: Rejected[]): Promise<void> {
  if (rejected.length === 0) return;
  await publisher.sendRaw(
    DEAD_LETTER_TOPIC,
    rejected.map((r) => fitted(deadLetter(r, processor, sourceTopic))),
  );
}

/**
 * One dead letter per Kafka record: a batch record (metric samples) whose
 * items were refused for several reasons goes once, with the reasons joined.
 */
export function onePerRecord(rejected: Rejected[]): Rejected[] {
  const byPosition = new Map<string, Rejected>();
  for (const r of rejected) {
    const at = `${r.partition}/${r.message.offset}`;
    const seen = byPosition.get(at);
    if (!seen) byPosition.set(at, { ...r });
    else if (!seen.reason.split('; ').includes(r.reason)) seen.reason = `${seen.reason}; ${r.reason}`;
  }
  return [...byPosition.values()];
}

function deadLetter(r: Rejected, processor: string, sourceTopic: string): Message & { headers: Record<string, Buffer | string> } {
  return {
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
  };
}

/** The dead letter itself when it fits in a Kafka message, else its placeholder (which always does: a few short headers). */
function fitted(m: ReturnType<typeof deadLetter>): Message {
  const bytes = recordBytes(m);
  if (bytes <= MAX_RECORD_BYTES) return m;
  const { headers } = m;
  return {
    key: null,
    value: null,
    headers: {
      'autopilot-source-topic': headers['autopilot-source-topic']!,
      'autopilot-source-partition': headers['autopilot-source-partition']!,
      'autopilot-source-offset': headers['autopilot-source-offset']!,
      'autopilot-processor': headers['autopilot-processor']!,
      'autopilot-reason': headers['autopilot-reason']!,
      'autopilot-placeholder': `the record is ${bytes} bytes with its headers, over Kafka's limit of ${MAX_RECORD_BYTES}: key, value and source headers left out; read it at its source position`,
    },
  };
}

function copyHeaders(headers: IHeaders | undefined): Record<string, Buffer | string> {
  const out: Record<string, Buffer | string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined && !Array.isArray(v)) out[k] = v;
  return out;
}
