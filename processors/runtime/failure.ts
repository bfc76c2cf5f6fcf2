import { AutopilotError } from '../../lib/errors.ts';
import { classifyClickHouseError } from '../../sql/errors.ts';

/**
 * Whether a failed batch is worth retrying without limit. The consume loop
 * reads only this:
 * - transient: a dependency is down or busy (Kafka, ClickHouse, Redis, the
 *   registry). The records are fine; the partition waits, however long.
 * - unknown: anything else. Retried a bounded number of times, then the
 *   batch's records are dead-lettered: no record can stall a partition forever.
 */
export type FailureKind = 'transient' | 'unknown';

const REDIS_DOWN = /^(Connection is closed|Stream isn't writeable|Reached the max retries per request limit)/;

export function failureKind(err: unknown): FailureKind {
  if (err instanceof AutopilotError) return err.retriable ? 'transient' : 'unknown';
  const e = err as { name?: unknown; retriable?: unknown; message?: unknown } | null;
  if (typeof e?.name === 'string' && e.name.startsWith('KafkaJS')) {
    // Retries exhausted or a connection lost: Kafka was unavailable. A refused record (too large, invalid) is not.
    if (e.retriable === true || /NumberOfRetriesExceeded|Connection|RequestTimeout|BrokerNotFound/.test(e.name)) return 'transient';
    return 'unknown';
  }
  if (e?.name === 'MaxRetriesPerRequestError' || (typeof e?.message === 'string' && REDIS_DOWN.test(e.message))) return 'transient';
  return classifyClickHouseError(err) === 'transient' ? 'transient' : 'unknown';
}
