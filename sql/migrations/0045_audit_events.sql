-- The remediation audit (schemas/audit_event.avsc): append-only, one row per
-- event, kept 400 days (an audit outlives a quarter's review). A replayed
-- record is the same event_id, one row under FINAL.
CREATE TABLE IF NOT EXISTS audit_events
(
    tenant          LowCardinality(String),
    at              DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    event_id        String,
    actor           String,
    event           LowCardinality(String),
    subject_kind    LowCardinality(String),
    subject_id      String,
    service         LowCardinality(String),
    details         String CODEC(ZSTD(3)),
    kafka_partition UInt16,
    kafka_offset    UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (tenant, at, event_id)
TTL toDateTime(at) + INTERVAL 400 DAY
SETTINGS ttl_only_drop_parts = 1
