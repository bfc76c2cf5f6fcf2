import type { Counter } from 'prom-client';
import type { Publisher } from '../../platform/publisher.ts';
import { AgentPriceStore, type PriceVersion } from '../../sql/stores/agent-prices.ts';
import { TOPICS, type AgentCall, type AgentEvent } from '../../schemas/topics.ts';
import { defineProcessor } from '../runtime/factory.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { agentsConfig } from './config.ts';
import { PriceBook, priceEvent } from './pricing.ts';
import { samplesOf } from './series.ts';
import { agentsTelemetry } from './telemetry.ts';

/**
 * The agents processor: each LLM or agent call (autopilot.agent-events, as
 * the gateway took it) is priced (pricing.ts) and published twice, in one
 * acknowledged send: as an AgentCall to autopilot.agent-calls, which the
 * sink writes to agent_calls, and as metric samples (series.ts), which the
 * rollup, detect, alert and correlate processors take like any others.
 *
 * Stateless: a call's output depends on the call and the tenant's price
 * versions alone, so a replay after a crash publishes the same call and the
 * same samples, which agent_calls (keyed by event_id) and the rollup (one
 * sample per series and timestamp) take once.
 */
export function agentsProcessor(deps: {
  publisher: Publisher;
  prices: () => Promise<Map<string, PriceVersion[]>>;
  pricesRefreshMs: number;
  priced: Counter<'cost_source'>;
  groupId: string;
}): ProcessorSpec {
  const book = new PriceBook(deps.prices, deps.pricesRefreshMs);

  const handle = async (batch: Decoded[]) => {
    const versions = await book.versions();
    const calls: AgentCall[] = batch.map((d) => {
      const event = d.value as AgentEvent;
      return priceEvent(event, versions.get(event.tenant));
    });
    await deps.publisher.publishAll([
      { kind: 'agentCalls', records: calls },
      { kind: 'metrics', records: calls.flatMap(samplesOf) },
    ]);
    for (const c of calls) deps.priced.inc({ cost_source: c.cost_source });
    return { rejected: [] };
  };

  return { name: 'agents', groupId: deps.groupId, topics: [TOPICS.agentEvents.topic], handle };
}

export const agents = defineProcessor({
  name: 'agents',
  needsClickHouse: true,
  config: agentsConfig,
  create: (config, s) => {
    const store = new AgentPriceStore(s.clickhouse());
    return agentsProcessor({
      publisher: s.publisher,
      prices: () => store.all(),
      pricesRefreshMs: config.pricesRefreshMs,
      priced: agentsTelemetry(s.registry).priced,
      groupId: s.groupId,
    });
  },
});
