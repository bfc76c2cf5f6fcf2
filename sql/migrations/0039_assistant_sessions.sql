-- The ops assistant's conversations (issue 15; their messages are 0040).
-- A session is a document: every change (a title, a deletion) is a new row
-- with a later updated_at, and ReplacingMergeTree(updated_at) keeps the
-- latest, so `FINAL` is the current state of each and a deleted session is
-- a row with deleted = true.
CREATE TABLE IF NOT EXISTS assistant_sessions
(
    tenant     LowCardinality(String),
    session_id String,
    title      String CODEC(ZSTD(1)),
    deleted    Bool DEFAULT false,
    created_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
    updated_at DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (tenant, session_id)
