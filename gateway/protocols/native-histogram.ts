import { num } from './protobuf.ts';

/**
 * The consistency rules Prometheus applies to a native histogram before it
 * stores one (model/histogram: Histogram.Validate and FloatHistogram.Validate,
 * called by the TSDB appender behind its remote-write receiver). A histogram
 * that breaks one is refused, not stored: its `_count` would disagree with
 * its own buckets forever.
 *
 * - schema: -4 to 8 are exponential; 9 to 52 too (Prometheus lowers their
 *   resolution to 8, which changes no count); -53 means custom bucket bounds.
 * - spans: their lengths add up to the number of buckets; only the first span
 *   may have a negative offset (custom buckets: none may).
 * - buckets: an integer histogram sends deltas, each bucket's count the sum of
 *   the deltas so far; no bucket count may be negative.
 * - count (integer histograms): equal to zero_count plus every positive and
 *   negative bucket; at least that when sum is NaN (a NaN observation counts
 *   but lands in no bucket). Float histograms are not held to it: rounding
 *   makes the sum of float buckets drift from the count, so Prometheus does
 *   not check it either; only a negative count is refused.
 * - custom buckets: bounds strictly increasing, not NaN, without a +Inf last
 *   bound (implicit); enough bounds for the spans; no zero bucket, no
 *   negative side.
 */

export interface BucketSpanMsg {
  offset: number;
  length: number;
}

/** The fields of prometheus.Histogram / io.prometheus.write.v2.Histogram as protobufjs decodes them. */
export interface HistogramMsg {
  /** The oneof: which count field is set (none: an integer count of 0). */
  count?: 'count_int' | 'count_float';
  count_int: unknown;
  count_float: number;
  sum: number;
  schema: number;
  zero_threshold: number;
  zero_count?: 'zero_count_int' | 'zero_count_float';
  zero_count_int: unknown;
  zero_count_float: number;
  negative_spans: BucketSpanMsg[];
  negative_deltas: number[];
  negative_counts: number[];
  positive_spans: BucketSpanMsg[];
  positive_deltas: number[];
  positive_counts: number[];
  timestamp: unknown;
  custom_values: number[];
}

const isFloatHistogram = (h: HistogramMsg): boolean => h.count === 'count_float';

export const histogramCount = (h: HistogramMsg): number => (isFloatHistogram(h) ? h.count_float : num(h.count_int));

const CUSTOM_BUCKETS_SCHEMA = -53;
const EXPONENTIAL_MIN = -4;
/** Prometheus takes schemas up to 52 and lowers them to 8. */
const EXPONENTIAL_MAX_ACCEPTED = 52;

/** What makes `h` inconsistent, or undefined when nothing does. */
export function histogramProblem(h: HistogramMsg): string | undefined {
  const float = isFloatHistogram(h);
  // As Prometheus reads the message: an integer histogram's zero count and deltas, a float histogram's zero count and counts.
  const zeroCount = float ? (h.zero_count === 'zero_count_float' ? h.zero_count_float : 0) : h.zero_count === 'zero_count_float' ? 0 : num(h.zero_count_int);
  const positive = float ? h.positive_counts : h.positive_deltas;
  const negative = float ? h.negative_counts : h.negative_deltas;

  if (h.schema === CUSTOM_BUCKETS_SCHEMA) {
    const problem = customBoundsProblem(h.custom_values, h.positive_spans, positive.length);
    if (problem) return `custom buckets: ${problem}`;
    if (zeroCount !== 0) return 'custom buckets: the zero bucket must be empty (zero_count 0)';
    if (h.zero_threshold !== 0) return 'custom buckets: zero_threshold must be 0';
    if (h.negative_spans.length > 0 || negative.length > 0) return 'custom buckets: there must be no negative buckets';
  } else if (h.schema >= EXPONENTIAL_MIN && h.schema <= EXPONENTIAL_MAX_ACCEPTED) {
    const problem = spansProblem('positive', h.positive_spans, positive.length) ?? spansProblem('negative', h.negative_spans, negative.length);
    if (problem) return problem;
    if (h.custom_values.length > 0) return `schema ${h.schema} is exponential: custom_values must be empty`;
  } else {
    return `schema ${h.schema} is not valid: -4 to 8 for exponential buckets, or -53 for custom buckets`;
  }

  const positiveTotal = bucketTotal(positive, !float);
  if (typeof positiveTotal === 'string') return `positive side: ${positiveTotal}`;
  const negativeTotal = bucketTotal(negative, !float);
  if (typeof negativeTotal === 'string') return `negative side: ${negativeTotal}`;

  if (float) return h.count_float < 0 ? `count is negative (${h.count_float})` : undefined;
  const count = num(h.count_int);
  const inBuckets = zeroCount + positiveTotal + negativeTotal;
  const holds = `the buckets hold ${inBuckets} (zero ${zeroCount}, positive ${positiveTotal}, negative ${negativeTotal})`;
  if (Number.isNaN(h.sum)) return inBuckets > count ? `count is ${count} but ${holds}: it must be at least that` : undefined;
  return inBuckets !== count ? `count is ${count} but ${holds}: they must be equal` : undefined;
}

function spansProblem(side: string, spans: BucketSpanMsg[], buckets: number): string | undefined {
  let needed = 0;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    if (i > 0 && span.offset < 0) return `${side} span ${i + 1} has a negative offset (${span.offset})`;
    needed += span.length;
  }
  return needed === buckets ? undefined : `${side} spans need ${needed} buckets, there are ${buckets}`;
}

function customBoundsProblem(bounds: number[], spans: BucketSpanMsg[], buckets: number): string | undefined {
  for (let i = 0; i < bounds.length; i++) {
    if (Number.isNaN(bounds[i])) return 'a bound is NaN';
    if (i > 0 && !(bounds[i]! > bounds[i - 1]!)) return `bounds must increase strictly (${bounds[i]} after ${bounds[i - 1]})`;
  }
  if (bounds.length > 0 && bounds[bounds.length - 1] === Infinity) return 'the last bound, +Inf, must not be given (it is implicit)';
  let needed = 0;
  let covered = 0;
  for (let i = 0; i < spans.length; i++) {
    const span = spans[i]!;
    if (span.offset < 0) return `span ${i + 1} has a negative offset (${span.offset})`;
    needed += span.length;
    covered += span.offset + span.length;
  }
  if (needed !== buckets) return `spans need ${needed} buckets, there are ${buckets}`;
  if (bounds.length + 1 < covered) return `${bounds.length} bounds are too few for spans covering ${covered} buckets`;
  return undefined;
}

/** The observations in one side's buckets, or what is wrong with them. */
function bucketTotal(buckets: number[], deltas: boolean): number | string {
  let total = 0;
  let current = 0;
  for (let i = 0; i < buckets.length; i++) {
    current = deltas ? current + buckets[i]! : buckets[i]!;
    if (current < 0) return `bucket ${i + 1} has a negative count (${current})`;
    total += current;
  }
  return total;
}
