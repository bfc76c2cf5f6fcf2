-- Each tenant's LLM price table, one row per change (tenant-config/agent-prices.ts):
-- `prices` holds the tenant's whole set of overrides after the change, as JSON
-- (model → input/output/cached USD per million tokens), so one row is one
-- version and no version needs another to be read. Versions count from 1 per
-- tenant (0 is the built-in table); the agents processor prices a call with
-- the version in force at its start, hence created_at.
CREATE TABLE IF NOT EXISTS agent_price_versions
(
    tenant     LowCardinality(String),
    version    UInt32,
    prices     String,
    change     String,
    created_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, version)
