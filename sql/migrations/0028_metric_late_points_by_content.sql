-- Late points keyed by (series, timestamp), like metric_points (0024): a late
-- sample a sender retried is one late point, not two.
CREATE TABLE IF NOT EXISTS metric_late_points_by_content
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
    kafka_offset    UInt64,
    series          UInt64 MATERIALIZED sipHash64(metric_name, mapKeys(labels), mapValues(labels))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(window_start)
ORDER BY (tenant, service, metric_name, series, timestamp)
TTL toDateTime(window_start) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1;

INSERT INTO metric_late_points_by_content SELECT * FROM metric_late_points;

EXCHANGE TABLES metric_late_points AND metric_late_points_by_content;

DROP TABLE IF EXISTS metric_late_points_by_content;
