-- Tags (production, candidate, …) point at a prompt version and move; the
-- latest row per tag wins.
CREATE TABLE IF NOT EXISTS prompt_tags
(
    tenant     LowCardinality(String),
    name       String,
    tag        LowCardinality(String),
    version    UInt32,
    deleted    Bool DEFAULT false,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (tenant, name, tag)
