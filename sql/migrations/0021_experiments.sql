-- Prompt experiments: which versions compete and how traffic splits.
CREATE TABLE IF NOT EXISTS experiments
(
    tenant     LowCardinality(String),
    id         String,
    definition String,
    status     LowCardinality(String),
    deleted    Bool DEFAULT false,
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (tenant, id)
