-- Root-cause analyses, one per incident version analysed; analysis_id is
-- stable, so a replay writes the same row again and it collapses.
CREATE TABLE IF NOT EXISTS analyses
(
    analysis_id               String,
    incident_id               String,
    tenant                    LowCardinality(String),
    service                   LowCardinality(String),
    source                    LowCardinality(String),
    model                     Nullable(String),
    prompt_name               LowCardinality(String),
    prompt_version            UInt32,
    experiment_id             Nullable(String),
    variant                   Nullable(String),
    fallback_reason           LowCardinality(Nullable(String)),
    duration_ms               Float64,
    created_at                DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    root_cause                String,
    root_cause_confidence     Float64,
    root_cause_reasoning      String,
    recommended_actions       String CODEC(ZSTD(3)),
    severity                  LowCardinality(String),
    estimated_customer_impact String,
    incident_opened_at        DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(created_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant, service, incident_id, analysis_id)
TTL toDateTime(created_at) + INTERVAL 365 DAY
SETTINGS ttl_only_drop_parts = 1
