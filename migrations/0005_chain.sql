-- Chain data from the Livepeer subgraph (DESIGN §9): winning tickets redeemed on chain,
-- and where the incremental sync stands. Written only by the sync (api/chain/sync.py).

-- One row per WinningTicketRedeemed event, keyed by the subgraph's event id, so a page
-- fetched twice (a retried or resumed sync) stores nothing twice.
CREATE TABLE chain_redemptions (
    id          text PRIMARY KEY,
    ts          timestamptz NOT NULL,
    -- The orchestrator paid, lower-case.
    recipient   text NOT NULL CHECK (recipient ~ '^0x[0-9a-f]{40}$'),
    -- HMAC-SHA256(secret, lower-cased broadcaster address): never the address itself.
    sender      bytea NOT NULL,
    -- Face value in ETH and winning probability (0 to 1) of the ticket.
    face_value  numeric NOT NULL CHECK (face_value >= 0),
    win_prob    double precision NOT NULL CHECK (win_prob >= 0 AND win_prob <= 1)
);
CREATE INDEX chain_redemptions_recipient_ts ON chain_redemptions (recipient, ts);
CREATE INDEX chain_redemptions_ts ON chain_redemptions (ts);

-- The sync's position and health, one row per synced entity ('redemptions').
-- Events up to (cursor_ts, cursor_id) are stored; synced_at is when the sync last
-- reached the subgraph's head, i.e. chain data is complete up to then.
CREATE TABLE chain_sync (
    entity         text PRIMARY KEY,
    cursor_ts      timestamptz,
    cursor_id      text NOT NULL DEFAULT '',
    synced_at      timestamptz,
    attempted_at   timestamptz,
    failures       integer NOT NULL DEFAULT 0,
    last_error     text
);
