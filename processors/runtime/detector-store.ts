import type { ChainableCommander, Redis } from 'ioredis';
import { emptyState, STATE_LENGTH, stateAt, type DetectorState } from './detector.ts';

/**
 * Detector states in Redis, cached while this consumer owns their
 * partitions. Changed states are written by the caller's MULTI, together
 * with the position they reflect, so state and progress never disagree.
 *
 * A state is a fixed Float64Array (detector.ts), stored as its bytes after a
 * one-byte format tag: STATE_LENGTH × 8 + 1 bytes per series, whatever its
 * history. Earlier versions stored a window of raw values under the same key
 * (format 1, or JSON before it); the new model cannot be rebuilt from those
 * without their times, so such a series starts learning afresh and keeps
 * only the time of its last judged sample (a sender's retry is still
 * recognised).
 */
export class DetectorStore {
  private readonly cache = new Map<string, DetectorState>();
  private readonly touched = new Set<string>();

  /** `namespace`: the consumer group, whose progress these states reflect. */
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
    for (const [i, id] of unique.entries()) this.cache.set(id, stored[i] ? decodeState(stored[i]!) : emptyState());
  }

  /** A loaded state, marked as changed. */
  use(id: string): DetectorState {
    const state = this.cache.get(id);
    if (!state) throw new Error(`detector state ${id} was not loaded`);
    this.touched.add(id);
    return state;
  }

  /** States changed since the last writeTo. */
  get changed(): number {
    return this.touched.size;
  }

  /**
   * Queues every changed state on `tx`, MSET_KEYS to a command; the caller
   * executes it. One SET per series cost ~1.1 KB of client objects each on top
   * of the state: at 100k series, a checkpoint held ~200 MB until Redis answered.
   */
  writeTo(tx: ChainableCommander): void {
    let pairs: (string | Buffer)[] = [];
    for (const id of this.touched) {
      pairs.push(this.keyOf(id), encodeState(this.cache.get(id)!));
      if (pairs.length === 2 * MSET_KEYS) {
        tx.mset(...pairs);
        pairs = [];
      }
    }
    if (pairs.length) tx.mset(...pairs);
    this.touched.clear();
  }

  private keyOf(id: string): string {
    return `${this.namespace}:baseline:${id}`;
  }
}

/** States per MSET of a checkpoint: ~400 KB a command. */
const MSET_KEYS = 500;

const FORMAT = 2;
/** What a state costs in Redis, in bytes. */
export const STATE_BYTES = 1 + 8 * STATE_LENGTH;

export function encodeState(state: DetectorState): Buffer {
  const buf = Buffer.allocUnsafe(STATE_BYTES);
  buf[0] = FORMAT;
  Buffer.from(state.buffer, state.byteOffset, state.byteLength).copy(buf, 1);
  return buf;
}

/** The state `encodeState` wrote; from an earlier format, a fresh one that keeps the last judged time. */
export function decodeState(buf: Buffer): DetectorState {
  if (buf[0] === FORMAT && buf.length === STATE_BYTES) {
    const state = new Float64Array(STATE_LENGTH);
    Buffer.from(state.buffer).set(buf.subarray(1));
    return state;
  }
  if (buf[0] === 0x7b /* { JSON, before format 1 */) {
    const last = (JSON.parse(buf.toString('utf8')) as { last?: number }).last;
    return last === undefined ? emptyState() : stateAt(last);
  }
  if (buf[0] === 1 && buf.length >= 13) {
    const last = buf.readDoubleLE(5); // format 1: tag, streak (Int32), last (Float64, NaN for none), …
    return Number.isNaN(last) ? emptyState() : stateAt(last);
  }
  throw new Error(`unknown detector state format ${buf[0]} (${buf.length} bytes)`);
}

/** Runs a MULTI and turns a failed or aborted one into an error, so the batch is retried. */
export async function execOrThrow(tx: ChainableCommander): Promise<void> {
  const results = await tx.exec();
  const failed = results?.find(([err]) => err);
  if (!results || failed) throw new Error(`redis transaction failed: ${failed?.[0]?.message ?? 'aborted'}`);
}
