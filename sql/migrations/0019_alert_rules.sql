-- Alert rules per tenant, as validated JSON; the latest row per id wins and a
-- deleted rule is a row with deleted = true.
CREATE TABLE IF NOT EXISTS alert_rules
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
