-- Changes seen on third-party status pages (schemas/external_status_change.avsc):
-- a component's state, an incident or maintenance opened, updated or resolved,
-- one row per dependent service ('' when none). The latest row per (tenant,
-- provider, subject) is the subject's current state (GET /v1/external-status).
-- `at` is when Autopilot saw the change. Partitioned by month: a rare table.
CREATE TABLE IF NOT EXISTS external_status_changes
(
    tenant          LowCardinality(String),
    provider        LowCardinality(String),
    subject_kind    LowCardinality(String),
    subject_id      String,
    at              DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    service         LowCardinality(String),
    change_id       String,
    job_id          String,
    subject_name    String,
    from_status     LowCardinality(Nullable(String)),
    to_status       LowCardinality(String),
    degraded        Bool,
    impact          LowCardinality(String),
    message         String CODEC(ZSTD(1)),
    url             String,
    kafka_partition UInt16,
    kafka_offset    UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (tenant, provider, subject_kind, subject_id, at, service, change_id)
TTL toDateTime(at) + INTERVAL 180 DAY
SETTINGS ttl_only_drop_parts = 1
