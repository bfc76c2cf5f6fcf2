-- Where a tenant's notifications go (Slack incoming webhooks, JSON webhooks).
CREATE TABLE IF NOT EXISTS notification_targets
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
