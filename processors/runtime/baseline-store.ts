import type { ChainableCommander, Redis } from 'ioredis';
import { emptyBaseline, type BaselineState } from './baseline.ts';

/**
 * Baselines in Redis, cached while this consumer owns their partitions.
 * Changed baselines are written by the caller's MULTI, together with the
 * position they reflect, so state and progress never disagree.
 *
 * Stored as bytes (see encodeBaseline), not JSON: a full window of 1000
 * samples is 8 KB instead of ~18, and encoding it is a copy, not a thousand
 * number-to-text conversions (JSON.stringify of baselines was the detect
 * processor's largest frame under load).
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
    const missing: string[] = [];
    for (const id of ids) if (!this.cache.has(id)) missing.push(id);
    if (missing.length === 0) return;
    const unique = [...new Set(missing)];
    const stored = await this.redis.mgetBuffer(unique.map((id) => this.keyOf(id)));
    for (const [i, id] of unique.entries()) this.cache.set(id, stored[i] ? decodeBaseline(stored[i]!) : emptyBaseline());
  }

  /** A loaded baseline, marked as changed. */
  use(id: string): BaselineState {
    const state = this.cache.get(id);
    if (!state) throw new Error(`baseline ${id} was not loaded`);
    this.touched.add(id);
    return state;
  }

  /** Baselines changed since the last writeTo. */
  get changed(): number {
    return this.touched.size;
  }

  /** Queues every changed baseline on `tx`; the caller executes it. */
  writeTo(tx: ChainableCommander): void {
    for (const id of this.touched) tx.set(this.keyOf(id), encodeBaseline(this.cache.get(id)!));
    this.touched.clear();
  }

  private keyOf(id: string): string {
    return `${this.namespace}:baseline:${id}`;
  }
}

/**
 * A baseline as bytes: a 1-byte format version (1), the streak (Int32), the
 * last judged event time (Float64, NaN for none), the counts of `recent` and
 * `values` (Uint32 each), then both arrays as Float64, little-endian. 21 + 8
 * bytes per value.
 */
const HEADER_BYTES = 21;
const FORMAT = 1;

export function encodeBaseline(state: BaselineState): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + 8 * (state.recent.length + state.values.length));
  buf.writeUInt8(FORMAT, 0);
  buf.writeInt32LE(state.streak, 1);
  buf.writeDoubleLE(state.last ?? Number.NaN, 5);
  buf.writeUInt32LE(state.recent.length, 13);
  buf.writeUInt32LE(state.values.length, 17);
  let at = HEADER_BYTES;
  for (const v of state.recent) at = buf.writeDoubleLE(v, at);
  for (const v of state.values) at = buf.writeDoubleLE(v, at);
  return buf;
}

/** The baseline `encodeBaseline` wrote; JSON too, as versions before it stored baselines. */
export function decodeBaseline(buf: Buffer): BaselineState {
  if (buf[0] === 0x7b /* { */) return JSON.parse(buf.toString('utf8')) as BaselineState;
  if (buf[0] !== FORMAT || buf.length < HEADER_BYTES) throw new Error(`unknown baseline format ${buf[0]} (${buf.length} bytes)`);
  const last = buf.readDoubleLE(5);
  const recent = new Array<number>(buf.readUInt32LE(13));
  const values = new Array<number>(buf.readUInt32LE(17));
  if (buf.length !== HEADER_BYTES + 8 * (recent.length + values.length)) throw new Error(`truncated baseline (${buf.length} bytes)`);
  let at = HEADER_BYTES;
  for (let i = 0; i < recent.length; i++, at += 8) recent[i] = buf.readDoubleLE(at);
  for (let i = 0; i < values.length; i++, at += 8) values[i] = buf.readDoubleLE(at);
  const state: BaselineState = { values, streak: buf.readInt32LE(1), recent };
  if (!Number.isNaN(last)) state.last = last;
  return state;
}

/** Runs a MULTI and turns a failed or aborted one into an error, so the batch is retried. */
export async function execOrThrow(tx: ChainableCommander): Promise<void> {
  const results = await tx.exec();
  const failed = results?.find(([err]) => err);
  if (!results || failed) throw new Error(`redis transaction failed: ${failed?.[0]?.message ?? 'aborted'}`);
}
