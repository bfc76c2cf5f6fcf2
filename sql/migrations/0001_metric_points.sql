-- Raw metric samples. ReplacingMergeTree keyed down to (kafka_partition,
-- kafka_offset): a batch the sink re-inserts after a crash collapses into the
-- rows already there, so `FINAL` (and every merge) counts each record once.
CREATE TABLE IF NOT EXISTS metric_points
(
    tenant          LowCardinality(String),
    service         LowCardinality(String),
    metric_name     LowCardinality(String),
    labels          Map(LowCardinality(String), String),
    timestamp       DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    value           Float64 CODEC(Gorilla, ZSTD(1)),
    kafka_partition UInt16,
    kafka_offset    UInt64 CODEC(Delta, ZSTD(1)),
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(timestamp)
ORDER BY (tenant, service, metric_name, timestamp, kafka_partition, kafka_offset)
TTL toDateTime(timestamp) + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1
