-- Alerts partitioned by month and kept 395 days. Daily partitions by starts_at
-- (0012) let one webhook whose alerts started on 120 different days exceed
-- ClickHouse's 100 partitions per insert, and an alert firing for more than 90
-- days was dropped by the TTL as it arrived. The gateway accepts starts_at up
-- to 365 days back; the TTL outlives that. Partitioned by starts_at still, so
-- every copy of an alert_id (which contains starts_at) shares a partition and
-- merges collapse them. Copy and swap, as 0024.
CREATE TABLE IF NOT EXISTS alerts_by_month
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
PARTITION BY toYYYYMM(starts_at)
ORDER BY (tenant, service, alert_id)
TTL toDateTime(starts_at) + INTERVAL 395 DAY
SETTINGS ttl_only_drop_parts = 1;

INSERT INTO alerts_by_month SELECT * FROM alerts;

EXCHANGE TABLES alerts AND alerts_by_month;

DROP TABLE IF EXISTS alerts_by_month;
