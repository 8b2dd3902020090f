-- Core data model: the registry of orchestrators, where their nodes are, and who may write.

CREATE TABLE orchestrators (
    address      text PRIMARY KEY CHECK (address ~ '^0x[0-9a-f]{40}$'),
    service_uri  text,
    active       boolean NOT NULL DEFAULT false,
    status       text,
    total_stake  numeric NOT NULL DEFAULT 0 CHECK (total_stake >= 0),
    -- Geolocated from service_uri; NULL while unknown. Nodes without a declared
    -- location inherit it.
    location_id  integer,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Distinct places. Rollups point here, so history keeps the place a node had at the
-- time even after the node moves. H3 cells for every resolution are precomputed so
-- any CELL level aggregates with a plain GROUP BY (cells[1] is resolution 0).
CREATE TABLE locations (
    id               serial PRIMARY KEY,
    source           text NOT NULL CHECK (source IN ('declared', 'geoip')),
    latitude         double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
    longitude        double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
    country          text CHECK (country ~ '^[A-Z]{2}$'),
    continent        text CHECK (continent IN ('EU', 'NA', 'SA', 'AS', 'AF', 'OC', 'AN')),
    livepeer_region  text NOT NULL,
    cells            text[] NOT NULL CHECK (cardinality(cells) = 16),
    UNIQUE NULLS NOT DISTINCT (source, latitude, longitude, country)
);

ALTER TABLE orchestrators
    ADD CONSTRAINT orchestrators_location_fk FOREIGN KEY (location_id) REFERENCES locations (id);

CREATE TABLE nodes (
    id                    bigserial PRIMARY KEY,
    orchestrator          text NOT NULL REFERENCES orchestrators (address) ON DELETE CASCADE,
    -- The node_id label as go-livepeer exports it ("<addr>-<hostname>" or a hostname).
    name                  text NOT NULL,
    node_type             text NOT NULL DEFAULT 'orch',
    declared_location_id  integer REFERENCES locations (id),
    first_seen            timestamptz NOT NULL DEFAULT now(),
    last_seen             timestamptz,
    UNIQUE (orchestrator, name)
);

-- Bearer tokens, ingest and read alike. Only a SHA-256 of the secret is kept.
CREATE TABLE api_tokens (
    id            bigserial PRIMARY KEY,
    orchestrator  text NOT NULL REFERENCES orchestrators (address) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    scopes        text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'ingest'] AND cardinality(scopes) > 0),
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_orchestrator ON api_tokens (orchestrator);

-- What each O chose to share beyond the required minimum.
CREATE TABLE sharing (
    orchestrator       text PRIMARY KEY REFERENCES orchestrators (address) ON DELETE CASCADE,
    optional_metrics   text[] NOT NULL DEFAULT '{}',
    share_per_node     boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
