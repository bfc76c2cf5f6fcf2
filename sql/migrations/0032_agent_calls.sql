-- LLM and agent calls as the agents processor priced them (schemas/agent_call.avsc):
-- one row per call, from POST /v1/agent-events or an OTLP GenAI span. Keyed by
-- content, as the other raw tables are: a call is its tenant and event_id
-- ('<trace_id>:<span_id>' for a span, the sender's id or a hash of the call
-- for the JSON API), and agent, model and started_at are the call's own, so
-- a retried request or a replayed record is the same row under FINAL.
-- Tenant, agent and model lead the key: "p95 of agent X on model Y over the
-- last hour" reads one range. A call is found from its span by the bloom
-- filter on trace_id, a conversation's calls by the one on session_id.
-- Kept 90 days, not the 30 of the raw tables: one row per call is a small
-- table (orders below spans), and cost is read by billing month, so this
-- month against the last needs up to 62 days.
-- status is ok | error, cost_source event | price_table | unknown, source
-- api | otlp; cost is NULL when neither the sender nor the price table knew it.
CREATE TABLE IF NOT EXISTS agent_calls
(
    tenant              LowCardinality(String),
    agent               LowCardinality(String),
    model               LowCardinality(String),
    started_at          DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    event_id            String CODEC(ZSTD(1)),
    provider            LowCardinality(String),
    operation           LowCardinality(String),
    duration_ms         Float64 CODEC(ZSTD(1)),
    input_tokens        UInt64 CODEC(ZSTD(1)),
    output_tokens       UInt64 CODEC(ZSTD(1)),
    cached_input_tokens UInt64 CODEC(ZSTD(1)),
    cost                Nullable(Float64) CODEC(ZSTD(1)),
    cost_source         LowCardinality(String),
    price_version       UInt32,
    status              LowCardinality(String),
    error_type          LowCardinality(Nullable(String)),
    session_id          Nullable(String) CODEC(ZSTD(1)),
    trace_id            String CODEC(ZSTD(1)),
    span_id             String CODEC(ZSTD(1)),
    source              LowCardinality(String),
    attributes          Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    kafka_partition     UInt16,
    kafka_offset        UInt64 CODEC(Delta, ZSTD(1)),
    ingested_at         DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_session_id session_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = ReplacingMergeTree
PARTITION BY toDate(started_at)
ORDER BY (tenant, agent, model, started_at, event_id)
TTL toDateTime(started_at) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1
