-- Deployment events: few rows, kept a year because incidents look back at them.
CREATE TABLE IF NOT EXISTS deployments
(
    tenant          LowCardinality(String),
    service         LowCardinality(String),
    timestamp       DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    version         String,
    status          LowCardinality(String),
    metadata        Map(LowCardinality(String), String),
    kafka_partition UInt16,
    kafka_offset    UInt64,
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, service, timestamp, kafka_partition, kafka_offset)
TTL toDateTime(timestamp) + INTERVAL 365 DAY
SETTINGS ttl_only_drop_parts = 1
