-- Raw log lines, deduplicated by Kafka position like metric_points.
CREATE TABLE IF NOT EXISTS log_entries
(
    tenant          LowCardinality(String),
    service         LowCardinality(String),
    level           LowCardinality(String),
    timestamp       DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    message         String CODEC(ZSTD(3)),
    labels          Map(LowCardinality(String), String),
    kafka_partition UInt16,
    kafka_offset    UInt64 CODEC(Delta, ZSTD(1)),
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(timestamp)
ORDER BY (tenant, service, timestamp, kafka_partition, kafka_offset)
TTL toDateTime(timestamp) + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1
