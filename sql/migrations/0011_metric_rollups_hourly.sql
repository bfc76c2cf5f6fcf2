-- Hourly count, sum, min, max and p50/p90/p95/p99 per series. Percentiles
-- come from the merged DDSketch buckets, the same rule as the live sketch:
-- the first bucket whose cumulative count exceeds q·(n − 1), at its midpoint
-- γ^k · 2 / (1 + γ), so they keep its relative-error guarantee.
CREATE VIEW IF NOT EXISTS metric_rollups_hourly AS
SELECT
    tenant, service, metric_name, series, hour, labels,
    arraySum(mapValues(counts)) AS count,
    arraySum(mapValues(sums)) AS sum,
    min, max,
    arrayReduce('sumMap', [arrayMap(k -> toInt32(k % 4000000) - 2000000, mapKeys(buckets))], [mapValues(buckets)]) AS merged,
    arrayCumSum(merged.2) AS cumulative,
    arrayMap(q -> merged.1[arrayFirstIndex(c -> c > q * (count - 1), cumulative)], [0.5, 0.9, 0.95, 0.99]) AS positions,
    arrayMap(p -> multiIf(p > 0, pow(gamma, p - 1000000) * 2 / (1 + gamma), p < 0, -pow(gamma, -p - 1000000) * 2 / (1 + gamma), 0), positions) AS quantiles,
    quantiles[1] AS p50,
    quantiles[2] AS p90,
    quantiles[3] AS p95,
    quantiles[4] AS p99
FROM
(
    SELECT tenant, service, metric_name, series, hour,
        any(labels) AS labels, maxMap(counts) AS counts, maxMap(sums) AS sums,
        min(min) AS min, max(max) AS max, maxMap(buckets) AS buckets, any(gamma) AS gamma
    FROM metric_rollups_1h
    GROUP BY tenant, service, metric_name, series, hour
)
