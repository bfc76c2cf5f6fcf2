import { z } from 'zod';
import { variablesWithPrefix } from '../../lib/config.ts';

/** The agents processor's settings from AGENTS_* variables; unknown ones are refused. */
const schema = z.strictObject({
  /**
   * How often tenants' price tables are re-read from ClickHouse. A price
   * change applies to calls that start after it; one that starts within this
   * interval of the change may still be priced with the version before
   * (agent_calls.price_version says which).
   */
  AGENTS_PRICES_REFRESH_SECONDS: z.coerce.number().positive().default(10),
});

export interface AgentsConfig {
  pricesRefreshMs: number;
}

export function agentsConfig(env: NodeJS.ProcessEnv = process.env): AgentsConfig {
  const c = schema.parse(variablesWithPrefix(env, 'AGENTS_'));
  return { pricesRefreshMs: c.AGENTS_PRICES_REFRESH_SECONDS * 1000 };
}
