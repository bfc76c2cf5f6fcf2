-- Pages read into a job's JSON schema by the model (schemas/extraction.avsc),
-- with the quality score and the raw answer, or why there is no result
-- (status invalid | model_unavailable, the page text kept either way).
CREATE TABLE IF NOT EXISTS extractions
(
    tenant          LowCardinality(String),
    job_id          String,
    at              DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    extraction_id   String,
    run_id          String,
    url             String,
    model           LowCardinality(Nullable(String)),
    status          LowCardinality(String),
    result          Nullable(String) CODEC(ZSTD(3)),
    quality         Nullable(Float64),
    quality_details String CODEC(ZSTD(1)),
    raw_answer      Nullable(String) CODEC(ZSTD(3)),
    source_text     String CODEC(ZSTD(3)),
    error           Nullable(String),
    duration_ms     Float64,
    kafka_partition UInt16,
    kafka_offset    UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (tenant, job_id, at, extraction_id)
TTL toDateTime(at) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1
