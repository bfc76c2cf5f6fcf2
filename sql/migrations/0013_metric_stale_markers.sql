-- Prometheus staleness markers: when a series stopped. Never a value, so never
-- in metric_points.
CREATE TABLE IF NOT EXISTS metric_stale_markers
(
    tenant          LowCardinality(String),
    service         LowCardinality(String),
    metric_name     LowCardinality(String),
    labels          Map(LowCardinality(String), String),
    timestamp       DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    kafka_partition UInt16,
    kafka_offset    UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(timestamp)
ORDER BY (tenant, service, metric_name, timestamp, kafka_partition, kafka_offset)
TTL toDateTime(timestamp) + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1
