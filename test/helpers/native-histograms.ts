/**
 * Native histograms shaped like the ones the Prometheus remote-write receiver
 * compliance suite sends (prometheus/compliance remotewrite/receiver,
 * `Histogram(sum, positive, negative, zero, custom, badCount)`), as plain
 * objects for protobufjs's `fromObject` (field names as in schemas/proto/).
 *
 * Positive deltas 1, 2, 1, 3, 1 are buckets 1, 3, 4, 7, 8 (23 observations);
 * negative deltas 1, 1 are 1, 2 (3); the zero bucket holds 1; the custom
 * buckets' deltas 2, 1, 2, 3, −1, −2 are 2, 3, 5, 8, 7, 5 (30). `badCount`
 * claims 99 observations whatever the buckets hold.
 */
export function complianceHistogram(
  sum: number,
  o: { positive?: boolean; negative?: boolean; zero?: boolean; custom?: boolean; badCount?: boolean },
  timestamp: number,
): Record<string, unknown> {
  let count = 0;
  const h: Record<string, unknown> = { sum, timestamp };
  if (o.positive) {
    h.positive_spans = [
      { offset: 0, length: 3 },
      { offset: 2, length: 2 },
    ];
    h.positive_deltas = [1, 2, 1, 3, 1];
    count += 23;
  }
  if (o.negative) {
    h.negative_spans = [{ offset: 0, length: 2 }];
    h.negative_deltas = [1, 1];
    count += 3;
  }
  if (o.zero) {
    h.zero_count_int = 1;
    count += 1;
  }
  if (o.custom) {
    h.schema = -53;
    h.custom_values = [0.1, 0.5, 1.0, 2.5, 5.0, 10.0];
    h.positive_spans = [{ offset: 0, length: 6 }];
    h.positive_deltas = [2, 1, 2, 3, -1, -2];
    count = 30;
  }
  h.count_int = o.badCount ? 99 : count;
  return h;
}
