-- Every notification attempt's outcome, including the ones the cooldown suppressed.
CREATE TABLE IF NOT EXISTS notification_deliveries
(
    delivery_id String,
    tenant      LowCardinality(String),
    service     LowCardinality(String),
    target_id   String,
    target_kind LowCardinality(String),
    reason      LowCardinality(String),
    subject_id  String,
    outcome     LowCardinality(String),
    attempts    UInt16,
    status_code Nullable(UInt16),
    error       Nullable(String),
    duration_ms Float64,
    at          DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(at)
ORDER BY (tenant, service, at, delivery_id)
TTL toDateTime(at) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1
