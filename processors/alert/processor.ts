import type { Redis } from 'ioredis';
import { everyInterval, serialQueue } from '../../lib/serial.ts';
import type { Publisher } from '../../platform/publisher.ts';
import { DocumentStore } from '../../sql/stores/documents.ts';
import { rollupsOf } from '../../schemas/rollup-batch.ts';
import { TOPICS, type AlertRecord, type Anomaly, type MetricRollup, type RollupBatch } from '../../schemas/topics.ts';
import type { Decoded, ProcessorSpec } from '../runtime/processor.ts';
import { advance, emptyAlertState, evaluate, expireStale, matchesAnomaly, matchesRollup, retire, seriesKeyOf, type AlertState } from './evaluate.ts';
import type { Rule, StoredRule } from '../../tenant-config/alert-rules.ts';
import { defineProcessor } from '../runtime/factory.ts';
import { alertConfig } from './config.ts';

/**
 * The alert processor: tenants' alert rules evaluated on the rollup and
 * anomaly streams. Rules are read from ClickHouse (where the API keeps them)
 * and refreshed every few seconds; each (rule, series) state lives in one
 * Redis hash under the consumer group. Alerts are published before the
 * states are saved: a replay re-emits the same alert ids, and the state's
 * `last_seen` makes the evaluation itself a no-op the second time.
 * Firing and resolved alerts go to `autopilot.alerts`, where correlate takes
 * firing ones as incident signals and notify sends them on. A wall-clock
 * sweep resolves what data alone cannot: quiet anomaly rules, stale
 * threshold series, disabled rules.
 */
export function alertProcessor(deps: {
  redis: Redis;
  publisher: Publisher;
  rules: DocumentStore<Rule>;
  refreshMs: number;
  sweepMs: number;
  /** A threshold alert's series with no new window for this long (wall clock) is stale: its alert resolves. */
  staleMs: number;
  groupId: string;
}): ProcessorSpec {
  // Silence before this process started is not counted: it was down, not the series (see expireStale).
  const startedAt = Date.now();
  const STATES = `${deps.groupId}:states`;
  let cached: { at: number; rules: StoredRule[] } = { at: 0, rules: [] };
  const rules = async (): Promise<StoredRule[]> => {
    if (Date.now() - cached.at < deps.refreshMs) return cached.rules;
    // Rules deleted in the last day come back disabled: like a disabled rule, they resolve what they left firing.
    const docs = await deps.rules.all({ deletedWithinMs: 24 * 3600_000 });
    cached = {
      at: Date.now(),
      rules: docs.map(
        (d) =>
          ({
            ...d.definition,
            ...(d.deleted ? { enabled: false } : {}),
            id: d.id,
            tenant: d.tenant,
            created_at: d.created_at,
            updated_at: d.updated_at,
          }) as StoredRule,
      ),
    };
    return cached.rules;
  };

  // One update at a time in this process: a batch's read-evaluate-write must not interleave with the sweep's.
  const updates = serialQueue();

  /** Loads the states of `keys`, lets `change` evaluate, publishes what it emitted, saves what changed. */
  async function update(keys: string[], change: (state: (key: string) => AlertState) => AlertRecord[]): Promise<void> {
    const unique = [...new Set(keys)];
    const raw = unique.length ? await deps.redis.hmget(STATES, ...unique) : [];
    const states = new Map(unique.map((k, i) => [k, raw[i] ? (JSON.parse(raw[i]!) as AlertState) : emptyAlertState()]));
    const alerts = change((key) => states.get(key) ?? states.set(key, emptyAlertState()).get(key)!);
    await deps.publisher.publish('alerts', alerts);
    if (states.size) await deps.redis.hset(STATES, Object.fromEntries([...states].map(([k, s]) => [k, JSON.stringify(s)])));
  }

  const handle = async (batch: Decoded[]) => {
    const all = await rules();
    if (all.length === 0) return { rejected: [] };
    // Rollups come in batch records (and, from earlier versions, one per record).
    const inputs = batch.flatMap((d) => ('windows' in (d.value as object) ? rollupsOf(d.value as RollupBatch) : [d.value as MetricRollup | Anomaly]));
    // Each input, the rules it matches and their state keys; rollups also move time for the service's anomaly rules.
    const work = inputs.map((input) => {
      const isAnomaly = 'detected_at' in input;
      const matching = all.filter((r) => (isAnomaly ? matchesAnomaly(r, input as Anomaly) : matchesRollup(r, input as MetricRollup)));
      const clocks = isAnomaly ? [] : all.filter((r) => r.kind === 'anomaly' && r.tenant === input.tenant && r.service === input.service);
      return { input, isAnomaly, matching, clocks };
    });
    const keys = work.flatMap((w) => [...w.matching.map((r) => seriesKeyOf(r, w.input)), ...w.clocks.map((r) => r.id)]);
    if (keys.length === 0) return { rejected: [] };
    await updates.run(() =>
      update(keys, (state) =>
        work.flatMap((w) => [
          ...w.matching.flatMap((r) => evaluate(r, state(seriesKeyOf(r, w.input)), w.input, Date.now())),
          ...w.clocks.flatMap((r) => advance(r, state(r.id), (w.input as MetricRollup).window_end)),
        ]),
      ),
    );
    return { rejected: [] };
  };

  /**
   * On the wall clock: anomaly rules resolve after their quiet time (a recovered service may send nothing),
   * threshold alerts whose series went stale resolve, and disabled and deleted rules resolve what they left firing.
   */
  const sweep = async () => {
    const byId = new Map((await rules()).map((r) => [r.id, r]));
    const keys = (await deps.redis.hkeys(STATES)).filter((k) => byId.has(ruleIdOf(k)));
    await updates.run(() =>
      update(keys, (state) =>
        keys.flatMap((k) => {
          const rule = byId.get(ruleIdOf(k))!;
          const now = Date.now();
          if (!rule.enabled) return retire(rule, state(k), now);
          return rule.kind === 'threshold' ? expireStale(rule, state(k), now, deps.staleMs, startedAt) : advance(rule, state(k), now);
        }),
      ),
    );
  };
  const sweeper = everyInterval(deps.sweepMs, sweep); // retried next tick

  return {
    name: 'alert',
    groupId: deps.groupId,
    topics: [TOPICS.rollupBatches.topic, TOPICS.rollups.topic, TOPICS.anomalies.topic],
    handle,
    close: async () => {
      sweeper.stop();
      await updates.idle();
    },
  };
}

/** A state key starts with its rule's id (see seriesKeyOf). */
const ruleIdOf = (key: string) => key.split('\u0000', 1)[0]!;

export const alert = defineProcessor({
  name: 'alert',
  needsClickHouse: true,
  config: alertConfig,
  create: (config, s) =>
    alertProcessor({ redis: s.redis, publisher: s.publisher, rules: new DocumentStore(s.clickhouse(), 'alert_rules'), ...config, groupId: s.groupId }),
});
