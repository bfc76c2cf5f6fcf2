-- Pages scrape jobs fetched (schemas/scraped_page.avsc): text and links.
-- Kept 30 days, like the other raw tables.
CREATE TABLE IF NOT EXISTS scraped_pages
(
    tenant          LowCardinality(String),
    job_id          String,
    fetched_at      DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    page_id         String,
    run_id          String,
    url             String,
    depth           UInt8,
    status          UInt16,
    content_type    LowCardinality(String),
    title           String,
    text            String CODEC(ZSTD(3)),
    links           Array(String) CODEC(ZSTD(3)),
    kafka_partition UInt16,
    kafka_offset    UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(fetched_at)
ORDER BY (tenant, job_id, fetched_at, page_id)
TTL toDateTime(fetched_at) + INTERVAL 30 DAY
SETTINGS ttl_only_drop_parts = 1
