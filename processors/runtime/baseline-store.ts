import type { ChainableCommander, Redis } from 'ioredis';
import { emptyBaseline, type BaselineState } from './baseline.ts';

/**
 * Baselines in Redis, cached while this consumer owns their partitions.
 * Changed baselines are written by the caller's MULTI, together with the
 * position they reflect, so state and progress never disagree.
 */
export class BaselineStore {
  private readonly cache = new Map<string, BaselineState>();
  private readonly touched = new Set<string>();

  /** `namespace`: the consumer group, whose progress these baselines reflect. */
  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
  ) {}

  async load(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.cache.has(id));
    if (missing.length === 0) return;
    const stored = await this.redis.mget(missing.map((id) => this.keyOf(id)));
    for (const [i, id] of missing.entries()) this.cache.set(id, stored[i] ? (JSON.parse(stored[i]!) as BaselineState) : emptyBaseline());
  }

  /** A loaded baseline, marked as changed. */
  use(id: string): BaselineState {
    const state = this.cache.get(id);
    if (!state) throw new Error(`baseline ${id} was not loaded`);
    this.touched.add(id);
    return state;
  }

  /** Queues every changed baseline on `tx`; the caller executes it. */
  writeTo(tx: ChainableCommander): void {
    for (const id of this.touched) tx.set(this.keyOf(id), JSON.stringify(this.cache.get(id)));
    this.touched.clear();
  }

  private keyOf(id: string): string {
    return `${this.namespace}:baseline:${id}`;
  }
}

/** Runs a MULTI and turns a failed or aborted one into an error, so the batch is retried. */
export async function execOrThrow(tx: ChainableCommander): Promise<void> {
  const results = await tx.exec();
  const failed = results?.find(([err]) => err);
  if (!results || failed) throw new Error(`redis transaction failed: ${failed?.[0]?.message ?? 'aborted'}`);
}
