-- Ingest: the series orchestrators send, their raw samples, and the bookkeeping that
-- makes writes idempotent and feeds the rollup (docs/architecture.md).

-- One row per series a node sends, after label handling. Nothing here is a raw label
-- value: `digest` is a keyed hash (HMAC-SHA256 with the server secret) of the label
-- set as received, so series of different streams stay apart although their
-- manifest_id and client_ip are not kept.
CREATE TABLE series (
    id          bigserial PRIMARY KEY,
    node        bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    digest      bytea NOT NULL,
    -- The series name as sent (e.g. livepeer_source_segment_duration_seconds_sum).
    metric      text NOT NULL,
    -- HMAC-SHA256(secret, lower-cased sender address); NULL without a sender label.
    sender      bytea,
    -- Coarse origin of the client_ip label ('' where unknown); NULL without one.
    country     text,
    cell        text,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (node, digest)
);

-- The rollup's cursor per series: the newest sample of it the rollup has consumed
-- (val NULL: that sample was a stale marker, the series ended). Rewritten for every
-- active series on every rollup pass, so it is narrow and half-empty pages leave room
-- for HOT updates.
CREATE TABLE series_cursors (
    series  bigint PRIMARY KEY REFERENCES series (id) ON DELETE CASCADE,
    ts      timestamptz NOT NULL,
    val     double precision
) WITH (fillfactor = 50);

-- Raw samples, many to a row: one row per (request, node, minute, gauges or not) with
-- parallel arrays. A request of 2,000 samples is a handful of rows written with one
-- COPY instead of 2,000 indexed rows. Partitioned by day on `minute` and dropped by
-- partition after LPM_RAW_RETENTION_DAYS.
CREATE TABLE samples (
    node     bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    minute   timestamptz NOT NULL CHECK (date_trunc('minute', minute) = minute),
    -- The ingest_batches row (request) these samples arrived in.
    batch    bigint NOT NULL,
    -- true: sessions/capacity gauges, recomputed per minute; false: counters, rolled up
    -- incrementally from each series' cursor.
    gauges   boolean NOT NULL,
    series   bigint[] NOT NULL,
    -- Milliseconds after `minute`.
    offsets  integer[] NOT NULL,
    -- A NULL element is a Prometheus stale marker.
    vals     double precision[] NOT NULL,
    CHECK (cardinality(series) = cardinality(offsets) AND cardinality(series) = cardinality(vals))
) PARTITION BY RANGE (minute);
CREATE INDEX samples_batch ON samples (batch);
-- The arrays are TOASTed; lz4 compresses them about as well as the default pglz at a
-- fraction of the CPU. Servers built without lz4 keep pglz.
DO $$
BEGIN
    ALTER TABLE samples
        ALTER COLUMN series SET COMPRESSION lz4,
        ALTER COLUMN offsets SET COMPRESSION lz4,
        ALTER COLUMN vals SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 unavailable: raw samples use the default TOAST compression';
END
$$;
CREATE INDEX samples_node_minute ON samples (node, minute);

-- Every accepted request, so a retried one (same orchestrator, same body) stores
-- nothing twice. Kept as long as raw samples.
CREATE TABLE ingest_batches (
    id            bigserial PRIMARY KEY,
    orchestrator  text NOT NULL REFERENCES orchestrators (address) ON DELETE CASCADE,
    -- HMAC-SHA256(secret, request body).
    digest        bytea NOT NULL,
    -- Samples stored, reported again to a sender that retries the request.
    samples       integer NOT NULL CHECK (samples >= 0),
    received_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (orchestrator, digest)
);
CREATE INDEX ingest_batches_received_at ON ingest_batches (received_at);

-- Batches stored but not rolled up yet. The rollup leader deletes the rows it
-- consumes in the transaction that writes their rollups, so each batch is rolled up
-- exactly once whatever the commit order of concurrent requests.
CREATE TABLE rollup_queue (
    batch  bigint PRIMARY KEY
);
