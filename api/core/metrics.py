"""The service's own Prometheus metrics, served on ``GET /metrics`` (``api.http.metrics``).

Every metric the process exports is declared here, so operators find the full list in
one place. Under ``lpmetrics serve --workers N`` the processes write their metrics to
files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, set up
by ``serve``) and any of them answers ``/metrics`` for all of them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "lpm_http_requests", "HTTP requests answered, by route and status", ["route", "status"]
)
HTTP_DURATION = Histogram(
    "lpm_http_request_duration_seconds", "HTTP request latency by route", ["route"]
)
INGEST_REQUESTS = Counter(
    "lpm_ingest_requests", "Remote-write requests, by HTTP status", ["status"]
)
INGEST_SAMPLES = Counter(
    "lpm_ingest_samples",
    "Remote-write samples by outcome (received, stored, dropped, rejected) and reason",
    ["outcome", "reason"],
)
INGEST_DROPPED = Counter(
    "lpm_ingest_dropped_samples",
    "Samples left out of accepted requests, by orchestrator and reason",
    ["orchestrator", "reason"],
)
INGEST_DURATION = Histogram(
    "lpm_ingest_duration_seconds",
    "Time to validate and store one remote-write request",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ROLLUP_DURATION = Histogram("lpm_rollup_duration_seconds", "Time of one rollup pass")
ROLLUP_BATCHES = Counter("lpm_rollup_batches", "Ingested batches rolled up")
ROLLUP_PENDING = Gauge(
    "lpm_rollup_pending_batches",
    "Batches waiting for the rollup, as the leader last saw",
    multiprocess_mode="mostrecent",
)
SIGN_IN_NONCES = Counter(
    "lpm_sign_in_nonces",
    "Sign-in nonce requests by outcome: issued, client_limit (one client over its"
    " bucket), pending_limit (the service-wide cap on outstanding nonces)",
    ["outcome"],
)
GRAPHQL_CACHE = Counter("lpm_graphql_cache", "GraphQL response cache lookups", ["result"])
REDIS_FALLBACKS = Counter(
    "lpm_redis_fallbacks",
    "Operations done without Redis while it was away, by use: ingest_limits (limited per"
    " process), response_cache (answered without the shared cache)",
    ["use"],
)
CHAIN_SYNC_LAG = Gauge(
    "lpm_chain_sync_lag_seconds",
    "Seconds since the chain sync last reached the subgraph's head (chain data is"
    " complete up to then), as the sync leader last saw",
    multiprocess_mode="mostrecent",
)
CHAIN_SYNC_FAILURES = Counter(
    "lpm_chain_sync_failures", "Chain syncs that failed (subgraph unreachable or malformed)"
)
CHAIN_REDEMPTIONS = Counter(
    "lpm_chain_redemptions_synced", "Winning-ticket redemptions fetched from the subgraph"
)


MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
