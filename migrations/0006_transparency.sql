-- Counts the transparency page publishes (api/transparency.py): one row per
-- deleteMyData served, with no trace of whose data it was.
CREATE TABLE deletions_served (
    id   bigserial PRIMARY KEY,
    at   timestamptz NOT NULL DEFAULT now()
);
