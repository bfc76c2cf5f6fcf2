-- Staleness markers keyed by (series, timestamp), like metric_points (0024).
CREATE TABLE IF NOT EXISTS metric_stale_markers_by_content
(
    tenant          LowCardinality(String),
    service         LowCardinality(String),
    metric_name     LowCardinality(String),
    labels          Map(LowCardinality(String), String),
    timestamp       DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    kafka_partition UInt16,
    kafka_offset    UInt64,
    series          UInt64 MATERIALIZED sipHash64(metric_name, mapKeys(labels), mapValues(labels))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(timestamp)
ORDER BY (tenant, service, metric_name, series, timestamp)
TTL toDateTime(timestamp) + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1;

INSERT INTO metric_stale_markers_by_content SELECT * FROM metric_stale_markers;

EXCHANGE TABLES metric_stale_markers AND metric_stale_markers_by_content;

DROP TABLE IF EXISTS metric_stale_markers_by_content;
