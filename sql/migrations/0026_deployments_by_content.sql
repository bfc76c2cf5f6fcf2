-- Deployment events keyed by what they say (service, time, version, status),
-- so a CI job that posts twice records one deployment. Copy and swap, as 0024.
CREATE TABLE IF NOT EXISTS deployments_by_content
(
    tenant          LowCardinality(String),
    service         LowCardinality(String),
    timestamp       DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    version         String,
    status          LowCardinality(String),
    metadata        Map(LowCardinality(String), String),
    kafka_partition UInt16,
    kafka_offset    UInt64,
    ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, service, timestamp, version, status)
TTL toDateTime(timestamp) + INTERVAL 365 DAY
SETTINGS ttl_only_drop_parts = 1;

INSERT INTO deployments_by_content SELECT * FROM deployments;

EXCHANGE TABLES deployments AND deployments_by_content;

DROP TABLE IF EXISTS deployments_by_content;
