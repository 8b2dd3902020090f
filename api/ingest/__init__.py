"""Ingest: orchestrators' Prometheus remote write in, per-node one-minute rollups out.

endpoint     POST /api/v1/write: auth, decode, filter, limit, store
allowlist    the metrics and labels kept (one definition, server and client side)
labels       label handling: sender -> keyed hash, client_ip -> coarse origin
batch        a decoded request -> chunks of samples per (node, minute)
known        a request of known series -> the same batch, by byte keys, no labels read
catalog      series and node ids, cached per process
limits       per-orchestrator rate and active-series limits in Redis
storage      one transaction per request: idempotent, COPY, queued for the rollup
rollup       the leader turning raw samples into node_minutes & co
partitions   day partitions of raw samples, retention
sharing      optional metrics per orchestrator
status       an orchestrator's own ingest status: drops by reason, refusals, nodes
status_report  reading it back for viewer { ingest } and `lpmetrics status`
prometheus_config  the remote_write block `lpmetrics token create` prints
"""
