-- Latency percentiles per service, metric and rollup window, for analysts
-- and the Service overview dashboard. Every series of the metric (all its
-- label sets) is merged through its DDSketch buckets with the rule of
-- metric_rollups_hourly, so p99 is the service's p99, not an average of its
-- series' p99s. Filter on tenant, service, metric_name and window_start.
CREATE VIEW IF NOT EXISTS service_latency AS
SELECT tenant, service, metric_name, window_start, window_end, series, count, sum, min, max, sum / count AS avg, p50, p90, p95, p99
FROM
(
    SELECT
        *,
        arrayCumSum(mapValues(merged)) AS cumulative,
        arrayMap(q -> mapKeys(merged)[arrayFirstIndex(c -> c > q * (count - 1), cumulative)], [0.5, 0.9, 0.95, 0.99]) AS positions,
        arrayMap(p -> multiIf(p > 0, pow(gamma, p - 1000000) * 2 / (1 + gamma), p < 0, -pow(gamma, -p - 1000000) * 2 / (1 + gamma), 0), positions) AS quantiles,
        quantiles[1] AS p50,
        quantiles[2] AS p90,
        quantiles[3] AS p95,
        quantiles[4] AS p99
    FROM
    (
        SELECT tenant, service, metric_name, window_start,
            max(window_end) AS window_end, uniqExact(series) AS series,
            sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
            sumMap(sketch) AS merged, any(sketch_gamma) AS gamma
        FROM metric_rollups FINAL
        GROUP BY tenant, service, metric_name, window_start
    )
)
