-- Spans from OTLP traces (gateway/protocols/otlp/traces.ts), in the shape of
-- the OpenTelemetry Collector ClickHouse exporter's otel_traces table, in this
-- schema's snake_case: queries written for that table carry over by renaming
-- columns. Keyed by content, as the other raw tables are (0024, 0025): a span
-- is its trace and span id, so a retried export or a replayed record is the
-- same row under FINAL. Service and time lead the key, the usual question
-- being "spans of a service over an hour"; one trace is found by the bloom
-- filter on trace_id (the exporter's index), its spans then read by key.
-- timestamp is the span's start, to the nanosecond as far as the gateway
-- has it (OTLP times reach it as doubles, about a quarter microsecond).
-- kind is Unspecified | Internal | Server | Client | Producer | Consumer and
-- status_code Unset | Ok | Error (the Collector's pdata names, without the
-- SPAN_KIND_ / STATUS_CODE_ prefixes of the proto enums).
CREATE TABLE IF NOT EXISTS spans
(
    tenant              LowCardinality(String),
    service             LowCardinality(String),
    timestamp           DateTime64(9, 'UTC') CODEC(Delta, ZSTD(1)),
    trace_id            String CODEC(ZSTD(1)),
    span_id             String CODEC(ZSTD(1)),
    parent_span_id      String CODEC(ZSTD(1)),
    trace_state         String CODEC(ZSTD(1)),
    name                LowCardinality(String),
    kind                LowCardinality(String),
    resource_attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    scope_name          LowCardinality(String),
    scope_version       LowCardinality(String),
    span_attributes     Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    duration_ns         UInt64 CODEC(ZSTD(1)),
    status_code         LowCardinality(String),
    status_message      String CODEC(ZSTD(1)),
    events Nested
    (
        timestamp  DateTime64(9, 'UTC'),
        name       LowCardinality(String),
        attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    links Nested
    (
        trace_id    String,
        span_id     String,
        trace_state String,
        attributes  Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    kafka_partition     UInt16,
    kafka_offset        UInt64 CODEC(Delta, ZSTD(1)),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_duration duration_ns TYPE minmax GRANULARITY 1
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(timestamp)
ORDER BY (tenant, service, timestamp, trace_id, span_id)
TTL toDateTime(timestamp) + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1
