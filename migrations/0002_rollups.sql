-- Per-node one-minute rollups: the contract between ingest (which computes them from raw
-- samples) and the statistics API (which aggregates them). They keep history; raw
-- samples do not.

CREATE TABLE node_minutes (
    node            bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    minute          timestamptz NOT NULL CHECK (date_trunc('minute', minute) = minute),
    -- Where the node was during this minute (NULL: unknown; counts only globally).
    location_id     integer REFERENCES locations (id),
    -- livepeer_current_sessions_total over the minute.
    sessions_last   double precision,
    sessions_avg    double precision,
    sessions_max    double precision,
    -- livepeer_max_sessions_total, last value in the minute.
    capacity        double precision,
    -- Counter increases attributed to this minute, resets handled.
    mil_pixels      double precision NOT NULL DEFAULT 0,
    segments        double precision NOT NULL DEFAULT 0,
    source_seconds  double precision NOT NULL DEFAULT 0,
    tickets         double precision NOT NULL DEFAULT 0,
    ticket_value    double precision NOT NULL DEFAULT 0,
    winning_tickets double precision NOT NULL DEFAULT 0,
    value_redeemed  double precision NOT NULL DEFAULT 0,
    failed_segments double precision NOT NULL DEFAULT 0,
    nic_rx_bytes    double precision,
    nic_tx_bytes    double precision,
    -- Which optional figures this node could contribute in this minute.
    has_senders     boolean NOT NULL DEFAULT false,
    has_origins     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (node, minute)
);
CREATE INDEX node_minutes_minute ON node_minutes (minute);

-- Broadcasters seen paying (any ticket counter increased) a node in a minute, by keyed hash.
CREATE TABLE node_minute_senders (
    node        bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    minute      timestamptz NOT NULL,
    sender      bytea NOT NULL,
    PRIMARY KEY (node, minute, sender)
);
CREATE INDEX node_minute_senders_minute ON node_minute_senders (minute);

-- Demand origin: pixels by the coarse origin of the gateway's client_ip.
CREATE TABLE node_minute_origins (
    node        bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    minute      timestamptz NOT NULL,
    -- '' where the origin could not be located.
    country     text NOT NULL,
    cell        text NOT NULL,
    mil_pixels  double precision NOT NULL,
    PRIMARY KEY (node, minute, country, cell)
);
