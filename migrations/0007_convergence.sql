-- Cross-source convergence (docs/convergence.md): per-port byte counters beside the
-- NIC's, and each node's calibrated model of bytes against its work.

-- Increases of lpm_port_{receive,transmit}_bytes_total (node_exporter's textfile
-- collector, fed by nftables counters on the orchestrator's port), resets handled like
-- every counter column; NULL when the node does not share them.
ALTER TABLE node_minutes
    ADD COLUMN port_rx_bytes double precision,
    ADD COLUMN port_tx_bytes double precision;

-- One model per node and source of byte counts, refitted daily over the trailing week
-- by one process at a time (api/convergence/worker.py). Coefficients are, in order,
-- bytes per million pixels processed, per second of source video, per second elapsed.
CREATE TABLE convergence_calibrations (
    node           bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    source         text NOT NULL CHECK (source IN ('PORT', 'NIC')),
    calibrated_at  timestamptz NOT NULL,
    -- The history fitted: first and last minute, minutes with the source.
    data_from      timestamptz NOT NULL,
    data_to        timestamptz NOT NULL,
    minutes        integer NOT NULL CHECK (minutes > 0),
    rx_coef        double precision[] NOT NULL CHECK (cardinality(rx_coef) = 3),
    tx_coef        double precision[] NOT NULL CHECK (cardinality(tx_coef) = 3),
    -- Relative error of the fit on its own history (sum |residual| / sum bytes).
    fit_error      double precision NOT NULL,
    PRIMARY KEY (node, source)
);

-- The convergence reads (api/convergence/) scan a window's minutes of the nodes that
-- share byte counters, usually a minority: index just those rows.
CREATE INDEX node_minutes_bytes ON node_minutes (minute)
    WHERE port_rx_bytes IS NOT NULL OR nic_rx_bytes IS NOT NULL;
