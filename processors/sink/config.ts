import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';

/**
 * The sink has no knobs of its own yet (tables, retention and partitioning
 * come from the migrations, see rows.ts); the schema still refuses a
 * misspelt SINK_* variable rather than ignoring it.
 */
export type SinkConfig = Record<string, never>;

const schema = z.strictObject({});

export function sinkConfig(env: NodeJS.ProcessEnv): SinkConfig {
  schema.parse(variablesWithPrefix(env, 'SINK_'));
  return {};
}
