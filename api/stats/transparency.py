"""What the ``transparency`` root field states about the service itself: what it
collects, how long it keeps it, the public view's rules, and counts of who uses it.
Everything here is about the service, nothing about any orchestrator."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from api.core.services import Services
from api.ingest.allowlist import METRICS, Metric

LABEL_HANDLING = (
    "sender (broadcaster address): replaced by a keyed hash (HMAC-SHA256 with the"
    " server secret) of the lower-cased address; the address is never stored",
    "client_ip: located at once to a country and an H3 cell of resolution 3; the IP"
    " is never stored",
    "manifest_id: dropped (series of different streams stay apart by a keyed hash)",
    "every other label not needed by a feature: dropped",
    "every metric not on the allowlist: dropped and counted",
)


@dataclass(frozen=True, slots=True)
class Counts:
    signed_in_orchestrators: int
    active_sessions: int
    active_tokens: int
    deletions_served: int


def collected() -> tuple[Metric, ...]:
    return METRICS


def version() -> str | None:
    try:
        return metadata.version("lpmetrics")
    except metadata.PackageNotFoundError:
        return None


async def counts(services: Services) -> Counts:
    """Sessions live in Redis (one key each, value the address); tokens and
    deletions in PostgreSQL."""
    addresses: set[bytes] = set()
    sessions = 0
    keys = [k async for k in services.redis.scan_iter(match=services.key("session", "*"))]
    for start in range(0, len(keys), 500):
        for value in await services.redis.mget(keys[start : start + 500]):
            if value is not None:
                sessions += 1
                addresses.add(value)
    tokens = await services.db.fetchval("SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL")
    deletions = await services.db.fetchval("SELECT count(*) FROM deletions_served")
    return Counts(len(addresses), sessions, tokens, deletions)
