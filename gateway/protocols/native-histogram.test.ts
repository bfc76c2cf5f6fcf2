import { describe, expect, it } from 'vitest';
import { complianceHistogram } from '../../test/helpers/native-histograms.ts';
import { histogramProblem, type HistogramMsg } from './native-histogram.ts';
import { decodeProto, protoType } from './protobuf.ts';

/**
 * Before this file, no histogram was ever checked: every case below that
 * expects a problem got undefined (nothing to call), and the same histograms
 * were stored; remote-write.test.ts shows it through the conversion.
 */
const Histogram = protoType('prometheus-remote-write-2.proto', 'io.prometheus.write.v2.Histogram');

/** Through the wire and back, so the fields have protobufjs's defaults (oneofs unset, empty repeated fields). */
const decoded = (h: Record<string, unknown>) => decodeProto<HistogramMsg>(Histogram, Histogram.encode(Histogram.fromObject(h)).finish());
const problemOf = (h: Record<string, unknown>) => histogramProblem(decoded(h));

describe('native histograms, the compliance suite cases', () => {
  const t = Date.now();
  it.each([
    ['basic_histogram', { positive: true, negative: true, zero: true }],
    ['custom_buckets_histogram', { positive: true, custom: true }],
    ['positive_only_histogram', { positive: true, zero: true }],
    ['negative_only_histogram', { negative: true }],
    ['minimal_histogram', { zero: true }],
    ['empty histogram', {}],
  ])('accepts %s', (_, o) => {
    expect(problemOf(complianceHistogram(1, o, t))).toBeUndefined();
  });

  it('refuses bad_count_histogram: count 99, buckets 23', () => {
    expect(problemOf(complianceHistogram(1, { positive: true, badCount: true }, t))).toBe(
      'count is 99 but the buckets hold 23 (zero 0, positive 23, negative 0): they must be equal',
    );
  });
});

describe('native histogram rules', () => {
  const t = Date.now();

  it('counts the zero bucket and both sides, deltas summed into bucket counts', () => {
    const h = {
      count_int: 3 + 8 + 2,
      zero_count_int: 3,
      positive_spans: [{ offset: -2, length: 2 }],
      positive_deltas: [5, -2],
      negative_spans: [{ offset: 1, length: 1 }],
      negative_deltas: [2],
      sum: 4,
      timestamp: t,
    };
    expect(problemOf(h)).toBeUndefined();
    expect(problemOf({ ...h, count_int: 12 })).toMatch(/^count is 12 but the buckets hold 13 \(zero 3, positive 8, negative 2\)/);
  });

  it('lets count exceed the buckets when sum is NaN (a NaN observation lands in no bucket), but never fall short', () => {
    const h = { count_int: 5, zero_count_int: 2, sum: NaN, timestamp: t };
    expect(problemOf(h)).toBeUndefined();
    expect(problemOf({ ...h, count_int: 1 })).toMatch(/count is 1 but the buckets hold 2 .*at least that/);
  });

  it('refuses a bucket whose count falls below zero, and spans that do not match the buckets', () => {
    expect(problemOf({ count_int: 0, positive_spans: [{ offset: 0, length: 2 }], positive_deltas: [1, -2], sum: 0, timestamp: t })).toBe(
      'positive side: bucket 2 has a negative count (-1)',
    );
    expect(problemOf({ count_int: 1, positive_spans: [{ offset: 0, length: 2 }], positive_deltas: [1], sum: 1, timestamp: t })).toBe(
      'positive spans need 2 buckets, there are 1',
    );
    expect(
      problemOf({
        count_int: 2,
        negative_spans: [
          { offset: 0, length: 1 },
          { offset: -1, length: 1 },
        ],
        negative_deltas: [1, 0],
        sum: -1,
        timestamp: t,
      }),
    ).toBe('negative span 2 has a negative offset (-1)');
  });

  it('refuses schemas Prometheus does not know, and takes those it lowers to 8', () => {
    expect(problemOf({ count_int: 0, schema: 9, sum: 0, timestamp: t })).toBeUndefined();
    expect(problemOf({ count_int: 0, schema: -5, sum: 0, timestamp: t })).toMatch(/^schema -5 is not valid/);
    expect(problemOf({ count_int: 0, schema: 53, sum: 0, timestamp: t })).toMatch(/^schema 53 is not valid/);
    expect(problemOf({ count_int: 0, schema: 3, custom_values: [1], sum: 0, timestamp: t })).toBe('schema 3 is exponential: custom_values must be empty');
  });

  it('holds custom buckets to increasing finite bounds, enough of them, and no zero or negative buckets', () => {
    const h = complianceHistogram(1, { positive: true, custom: true }, t);
    expect(problemOf({ ...h, custom_values: [0.1, 0.5, 0.5, 2.5, 5, 10] })).toBe('custom buckets: bounds must increase strictly (0.5 after 0.5)');
    expect(problemOf({ ...h, custom_values: [0.1, 0.5, 1, 2.5, 5, Infinity] })).toBe(
      'custom buckets: the last bound, +Inf, must not be given (it is implicit)',
    );
    expect(problemOf({ ...h, custom_values: [0.1, 0.5, 1, 2.5] })).toBe('custom buckets: 4 bounds are too few for spans covering 6 buckets');
    expect(problemOf({ ...h, zero_threshold: 0.001 })).toBe('custom buckets: zero_threshold must be 0');
  });

  it('does not hold float histograms to their count (float rounding), only to non-negative counts', () => {
    const h = { count_float: 7.5, zero_count_float: 0.5, positive_spans: [{ offset: 0, length: 2 }], positive_counts: [2, 3], sum: 3, timestamp: t };
    expect(problemOf(h)).toBeUndefined();
    expect(problemOf({ ...h, positive_counts: [2, -3] })).toBe('positive side: bucket 2 has a negative count (-3)');
    expect(problemOf({ ...h, count_float: -1 })).toBe('count is negative (-1)');
  });
});
