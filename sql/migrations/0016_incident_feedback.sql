-- Whether an incident's analysis helped, from the people who handled it. The
-- helpful rate per prompt variant is what experiments compare.
CREATE TABLE IF NOT EXISTS incident_feedback
(
    feedback_id String,
    tenant      LowCardinality(String),
    incident_id String,
    helpful     Bool,
    comment     Nullable(String),
    created_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant, incident_id, feedback_id)
