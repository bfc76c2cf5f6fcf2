import { DDSketch } from '@datadog/sketches-js';
import type { MetricRollup } from '../../schemas/topics.ts';
import type { SeriesIdentity } from './metric-batches.ts';
import { keyMapping, sketchBuckets, sketchGamma, valueBuckets, type KeyMapping } from './sketch.ts';

/**
 * Event-time tumbling windows for one Kafka partition. Pure: no I/O, no
 * clock. The watermark is the highest event time seen minus the allowed
 * lateness; a window closes once the watermark passes its end. A point for a
 * window that has already closed is late: it is reported, never mixed in.
 */
export interface WindowConfig {
  windowMs: number;
  latenessMs: number;
  /** DDSketch relative accuracy: every percentile is within this fraction of the exact value. */
  relativeAccuracy: number;
}

export const DEFAULT_WINDOWS: WindowConfig = { windowMs: 60_000, latenessMs: 30_000, relativeAccuracy: 0.005 };

/** A closed window: the rollup record, plus its sketch's buckets for exact merging into coarser rollups (see sketch.ts). */
export interface ClosedWindow extends MetricRollup {
  sketch: Map<number, number>;
  sketch_gamma: number;
}

/** What a window needs of its series: the key it is kept under, and what its rollup row names. */
export type WindowSeries = Pick<SeriesIdentity, 'id' | 'tenant' | 'metricName' | 'labels' | 'service'>;

/**
 * Up to this many values a window keeps them as they came and is summed up
 * exactly when it closes: its percentiles are its own values (the sketch's
 * rank rule, without the sketch's rounding) and its buckets are counted
 * straight from the key mapping. Past it, the values go into a DDSketch at
 * once. Most windows hold a handful (a 15 s scrape puts 4 in a minute): a
 * sketch per window (two stores and a mapping, built, then read four times)
 * was a third of the rollup's CPU and most of its garbage. The buckets are
 * the same either way: they do not depend on the order of the values.
 */
const RAW_VALUES = 64;

interface OpenWindow {
  series: WindowSeries;
  start: number;
  /** The values as they came, until there are RAW_VALUES; then undefined, and `sketch` holds them. */
  values: number[] | undefined;
  sketch: DDSketch | undefined;
  /** Earliest Kafka offset folded in: the window needs the log from here on until it closes. */
  firstOffset: bigint;
  /**
   * What each point folded in is (its timestamp, for a metric), so a second
   * copy is not counted again. Numbers in arrival order, searched only for
   * one that is not after the latest (samples of a series mostly come in
   * order); any other identity in a set.
   */
  seenNumbers: number[];
  latestNumber: number;
  seenOther: Set<string> | undefined;
}

/**
 * Where a partition's windows stood at a commit: the watermark, and the last
 * offset processed. Stored with the commit (offset metadata, or Redis in the
 * same MULTI as what it produced), it lets a replay tell a point that was
 * already counted from one that was not.
 */
export interface WindowCheckpoint {
  w: number;
  p: string;
}

export const windowStartOf = (timestamp: number, cfg: WindowConfig) => Math.floor(timestamp / cfg.windowMs) * cfg.windowMs;

export class PartitionWindows {
  /** Per series id, its open windows (one, or two around a window's end while late points may still come). */
  private readonly open = new Map<string, OpenWindow[]>();
  private openCount = 0;
  private readonly closed: ClosedWindow[] = [];
  private maxEventTime = -Infinity;

  private readonly restoredWatermark: number;
  private readonly restoredProcessed: bigint;
  private readonly mapping: KeyMapping;

  /** From a checkpoint, windows ending at or before its watermark are closed already. */
  constructor(
    private readonly cfg: WindowConfig,
    restored?: WindowCheckpoint,
  ) {
    this.restoredWatermark = restored?.w ?? -Infinity;
    this.restoredProcessed = restored ? BigInt(restored.p) : -1n;
    this.mapping = keyMapping(cfg.relativeAccuracy);
  }

  get watermark(): number {
    return Math.max(this.restoredWatermark, this.maxEventTime - this.cfg.latenessMs);
  }

  get openWindows(): number {
    return this.openCount;
  }

  /**
   * Folds a point in; returns its window start, 'late' if that window has
   * closed, 'replayed' for a point read again after a restart whose window
   * had closed by the checkpoint (it was counted then, in its window or as
   * late), or 'duplicate' for a second point of the same series and window
   * with the same `identity` (a sender's retry: new offsets, same sample;
   * without one, every point counts).
   */
  add(series: WindowSeries, timestamp: number, value: number, offset: bigint, identity?: number | string): number | 'late' | 'replayed' | 'duplicate' {
    const start = windowStartOf(timestamp, this.cfg);
    const end = start + this.cfg.windowMs;
    if (offset <= this.restoredProcessed && end <= this.restoredWatermark) return 'replayed';
    if (end <= this.watermark) return 'late';
    const windows = this.open.get(series.id);
    let w: OpenWindow | undefined;
    if (windows) for (const x of windows) if (x.start === start) w = x;
    if (!w) {
      w = { series, start, values: [], sketch: undefined, firstOffset: offset, seenNumbers: [], latestNumber: -Infinity, seenOther: undefined };
      // A new array of the exact length, not a push: an array grown by push has room for 17, and there is one per series.
      this.open.set(series.id, windows ? windows.concat(w) : [w]);
      this.openCount++;
    }
    if (identity !== undefined && !firstSight(w, identity)) return 'duplicate';
    if (w.values) {
      w.values.push(value);
      if (w.values.length > RAW_VALUES) {
        w.sketch = this.sketchOf(w.values);
        w.values = undefined;
      }
    } else {
      w.sketch!.accept(value);
    }
    if (offset < w.firstOffset) w.firstOffset = offset;
    this.advanceTo(timestamp);
    return start;
  }

  /**
   * Moves event time forward. Windows close the moment the watermark crosses
   * their end, record by record, so what a window holds does not depend on
   * how the log was cut into batches: a replay closes it with the same points.
   */
  advanceTo(eventTime: number): void {
    if (eventTime <= this.maxEventTime) return;
    const before = Math.floor(this.watermark / this.cfg.windowMs);
    this.maxEventTime = eventTime;
    if (Math.floor(this.watermark / this.cfg.windowMs) === before) return;
    const watermark = this.watermark;
    for (const [id, windows] of this.open) {
      const stillOpen = windows.filter((w) => {
        if (w.start + this.cfg.windowMs > watermark) return true;
        this.closed.push(summarise(w, this.cfg.windowMs, w.sketch ? sketchFigures(w.sketch) : exactFigures(w.values!, this.mapping)));
        this.openCount--;
        return false;
      });
      if (stillOpen.length === 0) this.open.delete(id);
      else if (stillOpen.length < windows.length) this.open.set(id, stillOpen);
    }
  }

  private sketchOf(values: number[]): DDSketch {
    const sketch = new DDSketch({ relativeAccuracy: this.cfg.relativeAccuracy });
    for (const v of values) sketch.accept(v);
    return sketch;
  }

  /** Returns (and forgets) the windows closed since the last call. */
  closeReady(): ClosedWindow[] {
    return this.closed.splice(0);
  }

  /** The checkpoint to store with a commit made after processing `lastOffset`. */
  checkpoint(lastOffset: bigint): WindowCheckpoint {
    return { w: this.watermark, p: lastOffset.toString() };
  }

  /** The first offset an open window still needs; with none open, `next` (everything before it is done). */
  committableOffset(next: bigint): bigint {
    let min = next;
    for (const windows of this.open.values()) for (const w of windows) if (w.firstOffset < min) min = w.firstOffset;
    return min;
  }
}

/** Records `identity` as folded into `w`; false if it already was. */
function firstSight(w: OpenWindow, identity: number | string): boolean {
  if (typeof identity === 'number') {
    if (identity > w.latestNumber) w.latestNumber = identity;
    else if (w.seenNumbers.includes(identity)) return false;
    w.seenNumbers.push(identity);
    return true;
  }
  w.seenOther ??= new Set();
  if (w.seenOther.has(identity)) return false;
  w.seenOther.add(identity);
  return true;
}

/** What a closed window reports of its values. */
type Figures = Pick<ClosedWindow, 'count' | 'sum' | 'min' | 'max' | 'p50' | 'p90' | 'p95' | 'p99' | 'sketch' | 'sketch_gamma'>;

function sketchFigures(s: DDSketch): Figures {
  return {
    count: s.count,
    sum: s.sum,
    min: s.min,
    max: s.max,
    p50: s.getValueAtQuantile(0.5),
    p90: s.getValueAtQuantile(0.9),
    p95: s.getValueAtQuantile(0.95),
    p99: s.getValueAtQuantile(0.99),
    sketch: sketchBuckets(s),
    sketch_gamma: sketchGamma(s),
  };
}

/** A window's own values, sorted: quantile q is the value at rank ⌊q·(n − 1)⌋, the rank a DDSketch reads. */
function exactFigures(values: number[], mapping: KeyMapping): Figures {
  const sorted = values.sort((a, b) => a - b); // the window is closing: its values are not needed in arrival order again
  const n = sorted.length;
  const at = (q: number) => sorted[Math.floor(q * (n - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    sum,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    p50: at(0.5),
    p90: at(0.9),
    p95: at(0.95),
    p99: at(0.99),
    sketch: valueBuckets(sorted, mapping),
    sketch_gamma: mapping.gamma,
  };
}

function summarise(w: OpenWindow, windowMs: number, f: Figures): ClosedWindow {
  const series = w.series;
  return {
    tenant: series.tenant,
    service: series.service,
    metric_name: series.metricName,
    labels: series.labels,
    window_start: w.start,
    window_end: w.start + windowMs,
    count: f.count,
    sum: f.sum,
    min: f.min,
    max: f.max,
    p50: f.p50,
    p90: f.p90,
    p95: f.p95,
    p99: f.p99,
    sketch: f.sketch,
    sketch_gamma: f.sketch_gamma,
  };
}
