-- A version per hour of the hourly tables (0004), for readers that keep hourly sums
-- between ticks (api/stats/hourly.py).
--
-- Every statement that writes rows of an hour in stats_node_hours, stats_sender_hours,
-- stats_region_hours or stats_origin_hours -- the refresher, the cascades of deleting
-- a node, anything else -- gives that hour a new version in the same transaction, from
-- a sequence, so a version is never used twice: a reader that sees the same version of
-- an hour at two moments knows the hour's rows did not change in between. The dirty
-- set alone cannot tell: an hour can be dirtied and refreshed between two reads.
-- An hour without a row here has had no rows since this migration (it is empty).

CREATE SEQUENCE stats_hour_version_seq;

CREATE TABLE stats_hour_versions (
    hour     timestamptz PRIMARY KEY,
    version  bigint NOT NULL
);

INSERT INTO stats_hour_versions (hour, version)
SELECT hour, nextval('stats_hour_version_seq') FROM (
    SELECT hour FROM stats_node_hours
    UNION SELECT hour FROM stats_sender_hours
    UNION SELECT hour FROM stats_region_hours
    UNION SELECT hour FROM stats_origin_hours
) AS hours ORDER BY hour;

-- In hour order, so concurrent writers cannot deadlock on the rows.
CREATE FUNCTION stats_bump_hours() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_hour_versions (hour, version)
    SELECT hour, nextval('stats_hour_version_seq')
    FROM (SELECT DISTINCT hour FROM changed_rows ORDER BY 1) AS hours
    ON CONFLICT (hour) DO UPDATE SET version = excluded.version;
    RETURN NULL;
END
$$;

CREATE FUNCTION stats_bump_hours_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_hour_versions (hour, version)
    SELECT hour, nextval('stats_hour_version_seq')
    FROM (SELECT hour FROM old_rows UNION SELECT hour FROM new_rows ORDER BY 1) AS hours
    ON CONFLICT (hour) DO UPDATE SET version = excluded.version;
    RETURN NULL;
END
$$;

-- TRUNCATE has no transition table: every hour gets a new version.
CREATE FUNCTION stats_bump_all_hours() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stats_hour_versions SET version = nextval('stats_hour_version_seq');
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['stats_node_hours', 'stats_sender_hours',
                             'stats_region_hours', 'stats_origin_hours'] LOOP
        EXECUTE format('CREATE TRIGGER stats_version_insert AFTER INSERT ON %I'
                       ' REFERENCING NEW TABLE AS changed_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION stats_bump_hours()', t);
        EXECUTE format('CREATE TRIGGER stats_version_update AFTER UPDATE ON %I'
                       ' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION stats_bump_hours_update()', t);
        EXECUTE format('CREATE TRIGGER stats_version_delete AFTER DELETE ON %I'
                       ' REFERENCING OLD TABLE AS changed_rows'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION stats_bump_hours()', t);
        EXECUTE format('CREATE TRIGGER stats_version_truncate AFTER TRUNCATE ON %I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION stats_bump_all_hours()', t);
    END LOOP;
END
$$;
