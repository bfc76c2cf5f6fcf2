-- One row per series and event-time window, written by the rollup processor
-- when the window closes. ReplacingMergeTree on (series, window_start): a
-- window re-closed after a replay is the same row again, never a second one.
CREATE TABLE IF NOT EXISTS metric_rollups
(
    tenant        LowCardinality(String),
    service       LowCardinality(String),
    metric_name   LowCardinality(String),
    labels        Map(LowCardinality(String), String),
    series        UInt64 DEFAULT sipHash64(metric_name, mapKeys(labels), mapValues(labels)),
    window_start  DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    window_end    DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    count         UInt64,
    sum           Float64,
    min           Float64,
    max           Float64,
    p50           Float64,
    p90           Float64,
    p95           Float64,
    p99           Float64,
    written_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(window_start)
ORDER BY (tenant, service, metric_name, series, window_start)
TTL toDateTime(window_start) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1
