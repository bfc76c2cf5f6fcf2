import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';

/**
 * SINK_* variables (unknown ones refused). High-rate tables (samples, logs)
 * are written in inserts of up to `flushRows` rows, or what `flushMs` gathered:
 * ClickHouse asks for 10,000 to 100,000 rows about once a second per table
 * (each insert is a part on disk to merge later).
 */
export interface SinkConfig {
  flushRows: number;
  flushMs: number;
}

export const DEFAULT_SINK: SinkConfig = { flushRows: 50_000, flushMs: 1000 };

const schema = z.strictObject({
  SINK_FLUSH_ROWS: z.coerce.number().int().min(1).default(DEFAULT_SINK.flushRows),
  SINK_FLUSH_MS: z.coerce.number().int().min(0).default(DEFAULT_SINK.flushMs),
});

export function sinkConfig(env: NodeJS.ProcessEnv): SinkConfig {
  const c = schema.parse(variablesWithPrefix(env, 'SINK_'));
  return { flushRows: c.SINK_FLUSH_ROWS, flushMs: c.SINK_FLUSH_MS };
}
