-- Anomalies as the detector emitted them. anomaly_id comes from the sample's
-- Kafka position, so a replayed detection is the same row.
CREATE TABLE IF NOT EXISTS anomalies
(
    anomaly_id        String,
    tenant            LowCardinality(String),
    service           LowCardinality(String),
    metric_name       LowCardinality(String),
    labels            Map(LowCardinality(String), String),
    kind              LowCardinality(String),
    current_value     Float64,
    baseline_mean     Float64,
    baseline_std_dev  Float64,
    baseline_median   Float64,
    z_score           Float64,
    deviation_percent Float64,
    severity          LowCardinality(String),
    level_shift       Bool,
    detected_at       DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    source_topic      LowCardinality(String),
    source_partition  UInt16,
    source_offset     UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(detected_at)
ORDER BY (tenant, service, detected_at, anomaly_id)
TTL toDateTime(detected_at) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1
