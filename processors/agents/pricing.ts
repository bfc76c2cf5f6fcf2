import type { PriceVersion } from '../../sql/stores/agent-prices.ts';
import type { AgentCall, AgentEvent } from '../../schemas/topics.ts';
import { costOf, priceOf, tableAt } from '../../tenant-config/agent-prices.ts';

/**
 * An agent event priced: the sender's own cost when it gave one ('event'),
 * else its tokens at the tenant's price table in force when the call started
 * ('price_table', with that table's version), else no cost ('unknown': a
 * model the table does not know, by name or by prefix). Pure: the same event
 * and the same versions give the same call, so a replay writes the same row.
 */
export function priceEvent(event: AgentEvent, versions: readonly PriceVersion[] | undefined): AgentCall {
  const { cost, ...rest } = event;
  if (cost !== null && Number.isFinite(cost)) return { ...rest, cost, cost_source: 'event', price_version: 0 };
  const table = tableAt(versions, event.started_at);
  const found = priceOf(table, event.model);
  if (!found) return { ...rest, cost: null, cost_source: 'unknown', price_version: table.version };
  return { ...rest, cost: costOf(found.price, event), cost_source: 'price_table', price_version: table.version };
}

/**
 * Every tenant's price table versions, re-read at most every `refreshMs`.
 * A failed read throws (the batch is retried); the tables read before stay
 * for the next attempt only if they are still fresh.
 */
export class PriceBook {
  private cached: { at: number; versions: Map<string, PriceVersion[]> } | undefined;

  constructor(
    private readonly load: () => Promise<Map<string, PriceVersion[]>>,
    private readonly refreshMs: number,
  ) {}

  async versions(): Promise<Map<string, PriceVersion[]>> {
    if (this.cached && Date.now() - this.cached.at < this.refreshMs) return this.cached.versions;
    const versions = await this.load();
    this.cached = { at: Date.now(), versions };
    return versions;
  }
}
