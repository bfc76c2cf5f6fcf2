-- A tenant's remediation policies (tenant-config/remediation-policies.ts): one row per change, the
-- latest per (tenant, id) is the document, a delete is a row with `deleted`
-- (sql/stores/documents.ts).
CREATE TABLE IF NOT EXISTS remediation_policies
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
