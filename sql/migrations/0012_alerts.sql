-- Alerts from Alertmanager's webhook and from alert rules, one row per state
-- change. alert_id is fingerprint:status:starts_at, so Alertmanager's repeated
-- notifications of the same firing alert collapse into one row.
CREATE TABLE IF NOT EXISTS alerts
(
    alert_id      String,
    tenant        LowCardinality(String),
    service       LowCardinality(String),
    source        LowCardinality(String),
    alert_name    LowCardinality(String),
    status        LowCardinality(String),
    severity      LowCardinality(String),
    fingerprint   String,
    labels        Map(LowCardinality(String), String),
    annotations   Map(LowCardinality(String), String),
    starts_at     DateTime64(3, 'UTC'),
    ends_at       Nullable(DateTime64(3, 'UTC')),
    received_at   DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    generator_url Nullable(String),
    rule_id       Nullable(String),
    value         Nullable(Float64)
)
ENGINE = ReplacingMergeTree(received_at)
PARTITION BY toDate(starts_at)
ORDER BY (tenant, service, alert_id)
TTL toDateTime(starts_at) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1
