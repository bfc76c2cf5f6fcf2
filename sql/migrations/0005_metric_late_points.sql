-- Points that arrived after their window had closed: counted here, one row per
-- point (deduplicated by its Kafka position), never mixed into the window.
CREATE TABLE IF NOT EXISTS metric_late_points
(
    tenant          LowCardinality(String),
    service         LowCardinality(String),
    metric_name     LowCardinality(String),
    labels          Map(LowCardinality(String), String),
    window_start    DateTime64(3, 'UTC'),
    timestamp       DateTime64(3, 'UTC'),
    value           Float64,
    watermark       DateTime64(3, 'UTC'),
    kafka_partition UInt16,
    kafka_offset    UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(window_start)
ORDER BY (tenant, service, metric_name, kafka_partition, kafka_offset)
TTL toDateTime(window_start) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1
