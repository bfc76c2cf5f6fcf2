-- Every run of a scheduled job (schemas/job_run.avsc), skipped ones included:
-- GET /v1/jobs/{id}/runs reads a job's newest runs, so tenant and job lead
-- the key. A replayed record is the same run_id, one row under FINAL.
-- trigger is schedule | catch_up | manual; outcome success | failure |
-- timeout | skipped; details is the kind's JSON account of the run.
CREATE TABLE IF NOT EXISTS job_runs
(
    tenant          LowCardinality(String),
    job_id          String,
    started_at      DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    run_id          String,
    job_name        String,
    kind            LowCardinality(String),
    trigger         LowCardinality(String),
    scheduled_at    DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    ended_at        DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    outcome         LowCardinality(String),
    error           Nullable(String) CODEC(ZSTD(1)),
    items           UInt32,
    details         String CODEC(ZSTD(1)),
    scheduler       LowCardinality(String),
    kafka_partition UInt16,
    kafka_offset    UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (tenant, job_id, started_at, run_id)
TTL toDateTime(started_at) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1
