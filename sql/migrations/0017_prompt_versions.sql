-- Prompt versions are immutable once created; a change is a new version.
CREATE TABLE IF NOT EXISTS prompt_versions
(
    tenant         LowCardinality(String),
    name           String,
    version        UInt32,
    template       String,
    variables      Array(String),
    changelog      String,
    parent_version Nullable(UInt32),
    created_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, name, version)
