-- A tenant's scheduled jobs (tenant-config/jobs.ts): one row per change, the
-- latest per (tenant, id) is the job, a delete is a row with `deleted`, as
-- for alert rules and notification targets (sql/stores/documents.ts).
CREATE TABLE IF NOT EXISTS jobs
(
    tenant     LowCardinality(String),
    id         String,
    definition String,
    deleted    Bool DEFAULT false,
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (tenant, id)
