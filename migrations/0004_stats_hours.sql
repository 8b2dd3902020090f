-- Hourly pre-aggregates of the per-minute rollups, for the statistics API.
--
-- A 30-day window over node_minutes is 43,200 rows per node; these tables hold 720.
-- They are derived data: the API reads an hour from here only while the hour is not
-- listed in stats_dirty_hours, and from the minute tables otherwise, so a figure never
-- depends on whether the refresher has caught up (api/stats/hours.py).

-- Hours whose minute rows changed since they were last aggregated. Triggers on the
-- minute tables add them; the refresher (one process at a time) takes them away.
CREATE TABLE stats_dirty_hours (
    hour  timestamptz PRIMARY KEY
);

-- node_minutes summed per node, hour and location (a node that moves within an hour
-- has one row per place). location_id 0 stands for unknown (NULL in node_minutes).
CREATE TABLE stats_node_hours (
    hour              timestamptz NOT NULL,
    node              bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    location_id       integer NOT NULL,
    orchestrator      text NOT NULL,
    minutes           integer NOT NULL,
    -- Minutes with a sessions sample, their sum and their maximum (sessions_avg).
    sessions_minutes  integer NOT NULL,
    sessions          double precision NOT NULL,
    sessions_peak     double precision NOT NULL,
    capacity_minutes  integer NOT NULL,
    capacity          double precision NOT NULL,
    mil_pixels        double precision NOT NULL,
    segments          double precision NOT NULL,
    source_seconds    double precision NOT NULL,
    has_senders       boolean NOT NULL,
    has_origins       boolean NOT NULL,
    PRIMARY KEY (hour, node, location_id)
);
CREATE INDEX stats_node_hours_orchestrator ON stats_node_hours (orchestrator, hour);

-- Peak streams per region and hour: the maximum over the hour's minutes of the
-- region's summed sessions. Maxima of sums cannot be rebuilt from per-node or
-- per-location rows, so they are kept per level: GLOBAL (code ''), CONTINENT, COUNTRY,
-- LIVEPEER_REGION and CELL0 ... CELL15 (H3 resolution in the name).
CREATE TABLE stats_region_hours (
    level  text NOT NULL,
    code   text NOT NULL,
    hour   timestamptz NOT NULL,
    peak   double precision NOT NULL,
    PRIMARY KEY (level, code, hour)
);
CREATE INDEX stats_region_hours_hour ON stats_region_hours (hour, level);

-- Broadcasters (keyed sender hashes) paying a node in an hour, where the node was.
CREATE TABLE stats_sender_hours (
    hour         timestamptz NOT NULL,
    node         bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    location_id  integer NOT NULL,
    sender       bytea NOT NULL,
    PRIMARY KEY (hour, node, location_id, sender)
);

-- Demand origins summed per node and hour.
CREATE TABLE stats_origin_hours (
    hour        timestamptz NOT NULL,
    node        bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    country     text NOT NULL,
    cell        text NOT NULL,
    mil_pixels  double precision NOT NULL,
    PRIMARY KEY (hour, node, country, cell)
);

-- The API reads the minutes of partial and dirty hours by time; the rollup table's
-- key starts with the node.
CREATE INDEX stats_node_minute_origins_minute ON node_minute_origins (minute);

-- Statement-level triggers: one insert of a few hour keys per rollup statement, in
-- hour order so concurrent writers cannot deadlock on the keys.
CREATE FUNCTION stats_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_dirty_hours (hour)
    SELECT DISTINCT date_trunc('hour', minute, 'UTC') FROM changed_rows ORDER BY 1
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION stats_mark_dirty_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_dirty_hours (hour)
    SELECT hour FROM (
        SELECT date_trunc('hour', minute, 'UTC') AS hour FROM old_rows
        UNION
        SELECT date_trunc('hour', minute, 'UTC') FROM new_rows
    ) AS changed ORDER BY 1
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER stats_dirty_insert AFTER INSERT ON node_minutes
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty();
CREATE TRIGGER stats_dirty_update AFTER UPDATE ON node_minutes
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty_update();
CREATE TRIGGER stats_dirty_delete AFTER DELETE ON node_minutes
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty();

CREATE TRIGGER stats_dirty_insert AFTER INSERT ON node_minute_senders
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty();
CREATE TRIGGER stats_dirty_update AFTER UPDATE ON node_minute_senders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty_update();
CREATE TRIGGER stats_dirty_delete AFTER DELETE ON node_minute_senders
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty();

CREATE TRIGGER stats_dirty_insert AFTER INSERT ON node_minute_origins
    REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty();
CREATE TRIGGER stats_dirty_update AFTER UPDATE ON node_minute_origins
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty_update();
CREATE TRIGGER stats_dirty_delete AFTER DELETE ON node_minute_origins
    REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_mark_dirty();
