-- Hourly rollups, filled by the materialized view in 0010. Every figure is
-- kept per second-of-the-hour of its window and merged with maxMap, so a
-- window the rollup processor writes twice (after a crash) counts once: the
-- same key with the same value. Read it through metric_rollups_hourly.
CREATE TABLE IF NOT EXISTS metric_rollups_1h
(
    tenant       LowCardinality(String),
    service      LowCardinality(String),
    metric_name  LowCardinality(String),
    series       UInt64,
    hour         DateTime('UTC'),
    labels       SimpleAggregateFunction(any, Map(String, String)),
    counts       SimpleAggregateFunction(maxMap, Map(UInt16, UInt64)),
    sums         SimpleAggregateFunction(maxMap, Map(UInt16, Float64)),
    min          SimpleAggregateFunction(min, Float64),
    max          SimpleAggregateFunction(max, Float64),
    buckets      SimpleAggregateFunction(maxMap, Map(UInt64, UInt64)),
    gamma        SimpleAggregateFunction(any, Float64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, service, metric_name, series, hour)
TTL hour + INTERVAL 400 DAY
SETTINGS ttl_only_drop_parts = 1
