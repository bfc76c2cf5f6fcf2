-- The ops assistant's messages (issue 15; their sessions are 0039).
-- One row per turn: the user's question (role 'user': content is the
-- question, answer '' and source '') or the assistant's answer (role
-- 'assistant': content is the answer's summary, answer the whole structured
-- answer as JSON, trace the plan's tool calls and their results as JSON,
-- source llm | rules | needs_model). seq orders a session's turns; message_id
-- is the turn's own id, so a retried write is the same row under FINAL.
-- tool_calls, tokens and duration_ms are what GET /v1/statistics reads for
-- the assistant's invocations (count, latency percentiles, tool calls,
-- tokens); they are 0 on user turns. Tenant and session lead the key: a
-- session's history is one range. Kept 90 days, as agent_calls (0032);
-- partitioned by month so that the TTL drops whole parts (ttl_only_drop_parts
-- drops a part only once all its rows expired, which unpartitioned merges
-- across months would postpone). A rewrite of a message must carry its
-- created_at, so that both copies share a partition and merge.
CREATE TABLE IF NOT EXISTS assistant_messages
(
    tenant        LowCardinality(String),
    session_id    String,
    message_id    String CODEC(ZSTD(1)),
    seq           UInt32,
    role          LowCardinality(String),
    content       String CODEC(ZSTD(3)),
    answer        String CODEC(ZSTD(3)),
    trace         String CODEC(ZSTD(3)),
    source        LowCardinality(String),
    model         LowCardinality(String),
    tool_calls    UInt16,
    input_tokens  UInt32 CODEC(ZSTD(1)),
    output_tokens UInt32 CODEC(ZSTD(1)),
    duration_ms   Float64 CODEC(ZSTD(1)),
    created_at    DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant, session_id, seq, message_id)
TTL toDateTime(created_at) + INTERVAL 90 DAY
SETTINGS ttl_only_drop_parts = 1
