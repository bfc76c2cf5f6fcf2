-- One row per incident, its current state (incidents FINAL) with its latest
-- analysis: what an analyst or the Incidents dashboard lists. Incidents not
-- analysed yet have NULL analysis columns. Filter on tenant (and service,
-- status, opened_at); order by opened_at DESC for the newest first.
CREATE VIEW IF NOT EXISTS incident_list AS
SELECT
    i.tenant AS tenant,
    i.service AS service,
    i.incident_id AS incident_id,
    i.status AS status,
    i.severity AS severity,
    i.opened_at AS opened_at,
    i.updated_at AS updated_at,
    i.resolved_at AS resolved_at,
    dateDiff('second', i.opened_at, ifNull(i.resolved_at, i.updated_at)) / 60 AS duration_minutes,
    i.signal_count AS signal_count,
    i.suspect_version AS suspect_version,
    i.suspect_minutes_before AS suspect_minutes_before,
    a.root_cause AS root_cause,
    a.root_cause_confidence AS root_cause_confidence,
    a.analysis_severity AS analysis_severity,
    a.estimated_customer_impact AS estimated_customer_impact,
    a.analysis_source AS analysis_source,
    a.fallback_reason AS fallback_reason,
    a.analysed_at AS analysed_at,
    a.analyses AS analyses
FROM incidents AS i FINAL
LEFT JOIN
(
    SELECT tenant, incident_id,
        argMax(root_cause, created_at) AS root_cause,
        argMax(root_cause_confidence, created_at) AS root_cause_confidence,
        argMax(severity, created_at) AS analysis_severity,
        argMax(estimated_customer_impact, created_at) AS estimated_customer_impact,
        argMax(source, created_at) AS analysis_source,
        -- wrapped in a tuple: argMax skips NULLs, and a later LLM answer (NULL reason) must win
        argMax(tuple(fallback_reason), created_at).1 AS fallback_reason,
        max(created_at) AS analysed_at,
        count() AS analyses
    FROM analyses FINAL
    GROUP BY tenant, incident_id
) AS a ON a.tenant = i.tenant AND a.incident_id = i.incident_id
SETTINGS join_use_nulls = 1
