-- Raw samples keyed by content, as a TSDB keys them: (series, timestamp).
-- Keyed by Kafka position (0001), a sender's retry (new offsets, same samples)
-- was a second row under FINAL; now every copy of a sample collapses into one,
-- whichever request or replay wrote it. `series` is the hash metric_rollups
-- uses, so a point and its window share it. Rebuilt by copy and swap: the
-- sorting key of a MergeTree cannot be changed in place.
CREATE TABLE IF NOT EXISTS metric_points_by_content
(
    tenant          LowCardinality(String),
    service         LowCardinality(String),
    metric_name     LowCardinality(String),
    labels          Map(LowCardinality(String), String),
    timestamp       DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    value           Float64 CODEC(Gorilla, ZSTD(1)),
    kafka_partition UInt16,
    kafka_offset    UInt64 CODEC(Delta, ZSTD(1)),
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    series          UInt64 MATERIALIZED sipHash64(metric_name, mapKeys(labels), mapValues(labels))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(timestamp)
ORDER BY (tenant, service, metric_name, series, timestamp)
TTL toDateTime(timestamp) + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1;

INSERT INTO metric_points_by_content SELECT * FROM metric_points;

EXCHANGE TABLES metric_points AND metric_points_by_content;

DROP TABLE IF EXISTS metric_points_by_content;
