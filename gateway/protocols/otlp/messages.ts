/**
 * The OTLP messages as gateway/protocols/otlp/decode.ts hands them over
 * (protobufjs, snake_case, 64-bit integers as numbers, bytes as Uint8Array),
 * the fields Autopilot reads. A oneof's name (`value`, `data`) says which of
 * its members is set; unset members read as their type's default.
 */

export interface AnyValueMsg {
  value?: 'string_value' | 'bool_value' | 'int_value' | 'double_value' | 'array_value' | 'kvlist_value' | 'bytes_value';
  string_value: string;
  bool_value: boolean;
  int_value: number;
  double_value: number;
  array_value: { values: AnyValueMsg[] } | null;
  kvlist_value: { values: KeyValueMsg[] } | null;
  bytes_value: Uint8Array;
}

export interface KeyValueMsg {
  key: string;
  value: AnyValueMsg | null;
}

export interface ResourceMsg {
  attributes: KeyValueMsg[];
  dropped_attributes_count: number;
}

export interface ScopeMsg {
  name: string;
  version: string;
  attributes: KeyValueMsg[];
}

// Metrics (opentelemetry/proto/metrics/v1/metrics.proto)

export interface MetricsRequestMsg {
  resource_metrics: { resource: ResourceMsg | null; scope_metrics: { scope: ScopeMsg | null; metrics: MetricMsg[] }[] }[];
}

export interface MetricMsg {
  name: string;
  description: string;
  unit: string;
  data?: 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';
  gauge: { data_points: NumberDataPointMsg[] } | null;
  sum: { data_points: NumberDataPointMsg[]; aggregation_temporality: number; is_monotonic: boolean } | null;
  histogram: { data_points: HistogramDataPointMsg[]; aggregation_temporality: number } | null;
  exponential_histogram: { data_points: ExponentialHistogramDataPointMsg[]; aggregation_temporality: number } | null;
  summary: { data_points: SummaryDataPointMsg[] } | null;
}

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point marks the series as gone (Prometheus's staleness marker). */
export const NO_RECORDED_VALUE = 1;

interface PointMsg {
  attributes: KeyValueMsg[];
  start_time_unix_nano: number;
  time_unix_nano: number;
  flags: number;
}

export interface NumberDataPointMsg extends PointMsg {
  value?: 'as_double' | 'as_int';
  as_double: number;
  as_int: number;
}

export interface HistogramDataPointMsg extends PointMsg {
  count: number;
  sum: number;
  bucket_counts: number[];
  explicit_bounds: number[];
  min: number;
  max: number;
  /** proto3 `optional`: protobufjs names the synthetic oneof `_sum` and so on. */
  _sum?: 'sum';
  _min?: 'min';
  _max?: 'max';
}

export interface ExponentialHistogramDataPointMsg extends PointMsg {
  count: number;
  sum: number;
  scale: number;
  zero_count: number;
  zero_threshold: number;
  positive: { offset: number; bucket_counts: number[] } | null;
  negative: { offset: number; bucket_counts: number[] } | null;
  min: number;
  max: number;
  _sum?: 'sum';
  _min?: 'min';
  _max?: 'max';
}

export interface SummaryDataPointMsg extends PointMsg {
  count: number;
  sum: number;
  quantile_values: { quantile: number; value: number }[];
}

// Logs (opentelemetry/proto/logs/v1/logs.proto)

export interface LogsRequestMsg {
  resource_logs: { resource: ResourceMsg | null; scope_logs: { scope: ScopeMsg | null; log_records: LogRecordMsg[] }[] }[];
}

export interface LogRecordMsg {
  time_unix_nano: number;
  observed_time_unix_nano: number;
  severity_number: number;
  severity_text: string;
  body: AnyValueMsg | null;
  attributes: KeyValueMsg[];
  flags: number;
  trace_id: Uint8Array;
  span_id: Uint8Array;
  event_name: string;
}

// Traces (opentelemetry/proto/trace/v1/trace.proto)

export interface TracesRequestMsg {
  resource_spans: { resource: ResourceMsg | null; scope_spans: { scope: ScopeMsg | null; spans: SpanMsg[] }[] }[];
}

export interface SpanMsg {
  trace_id: Uint8Array;
  span_id: Uint8Array;
  trace_state: string;
  parent_span_id: Uint8Array;
  flags: number;
  name: string;
  /** SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  start_time_unix_nano: number;
  end_time_unix_nano: number;
  attributes: KeyValueMsg[];
  events: { time_unix_nano: number; name: string; attributes: KeyValueMsg[] }[];
  links: { trace_id: Uint8Array; span_id: Uint8Array; trace_state: string; attributes: KeyValueMsg[] }[];
  /** Status.code: 0 unset, 1 ok, 2 error. */
  status: { message: string; code: number } | null;
}
