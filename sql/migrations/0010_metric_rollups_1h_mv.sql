-- Each closed window, as written, folded into its hour. Bucket keys carry the
-- window's second of the hour (× 4,000,000) so windows never mix until read.
CREATE MATERIALIZED VIEW IF NOT EXISTS metric_rollups_1h_mv TO metric_rollups_1h AS
SELECT
    tenant,
    service,
    metric_name,
    series,
    toStartOfHour(window_start) AS hour,
    labels,
    map(toUInt16(dateDiff('second', toStartOfHour(window_start), window_start)), count) AS counts,
    map(toUInt16(dateDiff('second', toStartOfHour(window_start), window_start)), sum) AS sums,
    min,
    max,
    mapFromArrays(
        arrayMap(k -> toUInt64(dateDiff('second', toStartOfHour(window_start), window_start)) * 4000000 + toUInt64(k + 2000000), mapKeys(sketch)),
        mapValues(sketch)) AS buckets,
    sketch_gamma AS gamma
FROM metric_rollups
