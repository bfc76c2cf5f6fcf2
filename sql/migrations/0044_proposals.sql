-- Remediation proposals (schemas/proposal.avsc), one row per version: the
-- row with the highest version is the proposal (`proposals FINAL`). Redis
-- decides the transitions (platform/proposals.ts); this is their history.
-- Tenant and service lead the key: "the proposals for checkout" is one range.
CREATE TABLE IF NOT EXISTS proposals
(
    tenant           LowCardinality(String),
    service          LowCardinality(String),
    proposal_id      String,
    version          UInt32,
    trigger          LowCardinality(String),
    subject_id       String,
    incident_id      Nullable(String),
    policy_id        String,
    policy_name      String,
    action_id        String,
    action_name      String,
    action_kind      LowCardinality(String),
    risk             LowCardinality(String),
    mode             LowCardinality(String),
    dry_run          Bool,
    variables        Map(LowCardinality(String), String),
    status           LowCardinality(String),
    reason           Nullable(String),
    created_at       DateTime64(3, 'UTC'),
    updated_at       DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    expires_at       DateTime64(3, 'UTC'),
    verify_within_ms UInt64,
    decided_by       Nullable(String),
    decided_at       Nullable(DateTime64(3, 'UTC')),
    comment          Nullable(String),
    execution        Nullable(String) CODEC(ZSTD(3)),
    kafka_partition  UInt16,
    kafka_offset     UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant, service, proposal_id)
TTL toDateTime(created_at) + INTERVAL 400 DAY
SETTINGS ttl_only_drop_parts = 1
