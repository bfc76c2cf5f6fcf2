-- Every version of every incident; ReplacingMergeTree(version) keeps the
-- latest, so `FROM incidents FINAL` is the current state of each.
CREATE TABLE IF NOT EXISTS incidents
(
    incident_id        String,
    tenant             LowCardinality(String),
    service            LowCardinality(String),
    version            UInt32,
    status             LowCardinality(String),
    severity           LowCardinality(String),
    opened_at          DateTime64(3, 'UTC'),
    updated_at         DateTime64(3, 'UTC'),
    resolved_at        Nullable(DateTime64(3, 'UTC')),
    signals            String CODEC(ZSTD(3)),
    signal_count       UInt32,
    suspect_deployment Nullable(String),
    suspect_version    Nullable(String),
    suspect_minutes_before Nullable(Float64),
    written_at         DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(opened_at)
ORDER BY (tenant, service, incident_id)
TTL toDateTime(opened_at) + INTERVAL 365 DAY
SETTINGS ttl_only_drop_parts = 1
