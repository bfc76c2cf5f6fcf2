import { MAX_FUTURE_MS } from '../../lib/time.ts';
import { MAX_LABEL_NAME, MAX_LABEL_VALUE, RETENTION_MS } from '../records.ts';
import { hasInvalidUtf8, printable } from './protobuf.ts';

/**
 * The rules a record from an ecosystem protocol must keep to reach Kafka:
 * the same as the JSON ingest path's in records.ts, checked without zod per
 * item because a remote-write request holds thousands of samples of a few
 * hundred series.
 */

export function inWindow(timestamp: number, now: number): boolean {
  return timestamp >= now - RETENTION_MS && timestamp <= now + MAX_FUTURE_MS;
}

/**
 * records.ts's metric_name rule in words. Names are Prometheus 3's: any UTF-8
 * (`resource cpu usage`, `http.server.duration`), as its `utf8` validation
 * scheme accepts them; they are values in ClickHouse, never identifiers, so
 * no escaping is needed. Control characters stay out: they would break
 * exposition text, logs and the series key.
 */
export const METRIC_NAME_RULE = '1 to 200 characters of UTF-8 without control characters';

/**
 * What is wrong with a label set, or undefined when nothing is. As in
 * Prometheus 3, a label name is any non-empty UTF-8 and a value any UTF-8;
 * names and values decoded from bytes that were not UTF-8 are refused
 * (protobuf.ts marks them).
 */
export function labelProblem(labels: Record<string, string>): string | undefined {
  for (const name in labels) {
    const value = labels[name]!;
    if (name.length === 0) return 'a label has an empty name';
    if (hasInvalidUtf8(name)) return `label name ${printable(name).slice(0, 40)} is not valid UTF-8`;
    if (name.length > MAX_LABEL_NAME) return `label name ${name.slice(0, 40)}… is longer than ${MAX_LABEL_NAME} characters`;
    if (hasInvalidUtf8(value)) return `label ${name} has a value that is not valid UTF-8`;
    if (value.length > MAX_LABEL_VALUE) return `label ${name} has a value longer than ${MAX_LABEL_VALUE} characters`;
  }
  return undefined;
}
